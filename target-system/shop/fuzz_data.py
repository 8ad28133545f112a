"""The reference shop's fuzz data, put in place before fuzzing a running shop:

    harness fuzz        (system.toml's [fuzz] table names `shop.fuzz_data:seed_shop`;
                         target-system/schemathesis.toml sits beside it)

Users 1..10 and products SKU-0..SKU-9 with plenty of stock, the values the shop's
schemathesis settings steer generated orders towards (so orders reach inventory, payments
and notifications), written through the services' own APIs on a fresh system.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from shop.common.client import tls_context

if TYPE_CHECKING:
    from harness.runtime import RunningSystem

USERS = 10
CATALOG = tuple(f"SKU-{digit}" for digit in range(10))
STOCK = 1_000_000
PRICE_CENTS = 100


def shoppers() -> list[dict[str, Any]]:
    return [{"name": f"Shopper {n}", "email": f"shopper{n}@shop.test"} for n in range(1, USERS + 1)]


def products() -> list[dict[str, Any]]:
    return [
        {"sku": sku, "name": sku.lower(), "price_cents": PRICE_CENTS, "stock": STOCK}
        for sku in CATALOG
    ]


def seed_shop(system: RunningSystem) -> None:
    """Create the users and products on `system` (a fresh shop: the users get ids 1..10)."""
    with httpx.Client(timeout=10.0, verify=tls_context()) as client:
        for user in shoppers():
            created = client.post(f"{system.url('users')}/users", json=user)
            created.raise_for_status()
        ids = [client.get(f"{system.url('users')}/users/{n}").status_code for n in range(1, 11)]
        if ids != [200] * USERS:
            raise RuntimeError(f"users 1..{USERS} are not all there (not a fresh shop?)")
        for product in products():
            client.post(f"{system.url('inventory')}/products", json=product).raise_for_status()
