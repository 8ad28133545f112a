"""inventory: products, stock and reservations (README "inventory"). App: `shop.inventory.app:app`.

Stock never goes negative: a reservation takes stock with a conditional UPDATE
(`... WHERE stock >= quantity`) per item inside one write transaction, so it is all or
nothing, and a status change (held -> confirmed / cancelled) is a conditional UPDATE too, so
stock is released exactly once however many times cancel is called.
"""
