"""inventory's stock invariant under any sequence of reserve / confirm / cancel (Hypothesis).

For every product: stock >= 0, reserved == held quantities, and
stock + reserved + confirmed quantities == initial stock (README invariant 4).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shop.common.db import make_engine, session_scope
from shop.common.errors import ApiError
from shop.inventory import stock
from shop.inventory.models import Base, ProductRow, ReservationRow
from shop.inventory.schemas import ReservationCreate, ReservationItem
from sqlalchemy import Engine, select

INITIAL = {"SKU-1": 5, "SKU-2": 3, "SKU-3": 0}


@dataclass(frozen=True)
class Reserve:
    key: str
    lines: dict[str, int]


@dataclass(frozen=True)
class Settle:
    action: Literal["confirm", "cancel"]
    reservation_id: int


operations = st.lists(
    st.one_of(
        st.builds(
            Reserve,
            key=st.sampled_from(["k1", "k2", "k3", "k4", "k5"]),
            lines=st.dictionaries(
                st.sampled_from([*INITIAL, "SKU-9"]), st.integers(1, 4), min_size=1
            ),
        ),
        st.builds(
            Settle,
            action=st.sampled_from(["confirm", "cancel"]),
            reservation_id=st.integers(1, 6),
        ),
    ),
    max_size=25,
)


def check_invariant(engine: Engine) -> None:
    with session_scope(engine) as session:
        products = {p.sku: p for p in session.scalars(select(ProductRow))}
        held: dict[str, int] = defaultdict(int)
        confirmed: dict[str, int] = defaultdict(int)
        for reservation in session.scalars(select(ReservationRow)):
            bucket = {"held": held, "confirmed": confirmed}.get(reservation.status)
            for item in reservation.items:
                if bucket is not None:
                    bucket[item.sku] += item.quantity
        for sku, initial in INITIAL.items():
            row = products[sku]
            assert row.stock >= 0
            assert row.reserved == held[sku]
            assert row.stock + row.reserved + confirmed[sku] == initial


def apply(engine: Engine, op: Reserve | Settle) -> int:
    """The HTTP status the operation would answer."""
    try:
        if isinstance(op, Reserve):
            items = [ReservationItem(sku=sku, quantity=q) for sku, q in op.lines.items()]
            stock.reserve(engine, key=op.key, request=ReservationCreate(order_id=1, items=items))
        elif op.action == "confirm":
            stock.confirm(engine, op.reservation_id)
        else:
            stock.cancel(engine, op.reservation_id)
    except ApiError as refused:
        return refused.status_code
    return 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_stock_is_conserved_under_any_sequence_of_operations(ops: list[Reserve | Settle]) -> None:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        for sku, initial in INITIAL.items():
            session.add(ProductRow(sku=sku, name=sku, price_cents=1, stock=initial, reserved=0))
    for op in ops:
        assert apply(engine, op) in (200, 404, 409)
        check_invariant(engine)
    engine.dispose()
