"""The reference shop's invariants (target-system/README.md, "Invariants"), checked from the
outside: read every service's state over HTTP and report every violation with its order.

Rules (the names experiments filter on with `rules:`):

- `order_settled`: every order is `confirmed` or `cancelled` (none left `pending`).
- `saga_terminal`: every saga is `completed` or `compensated` (not `running`,
  `compensating`, nor `failed`, which needs a person).
- `confirmed_order_charged_once`: a confirmed order has exactly one `captured` payment,
  no refunded one, and it is the order's `payment_id`.
- `confirmed_order_stock_confirmed`: a confirmed order has a `confirmed` reservation and
  no `held` one.
- `cancelled_order_no_net_charge`: a cancelled order has no `captured` payment left.
- `cancelled_order_no_held_stock`: a cancelled order has no `held` (or `confirmed`)
  reservation.
- `stock_conserved`: for each product whose initial stock is known,
  `stock + held + confirmed quantities == initial stock`, and the confirmed quantities
  equal what confirmed orders bought.
- `confirmed_order_notified_once`: a confirmed order has exactly one `order.confirmed`
  notification; a cancelled order has none.

Usable from experiments (`invariant: shop_invariants.py:check_shop_invariants`), from load
profiles and from plain Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from harness import http_clients
from harness.assertions.invariants import InvariantReport, Violation

__all__ = ["RULES", "ShopState", "check_shop_invariants", "evaluate_shop_state", "read_shop_state"]

RULES = (
    "order_settled",
    "saga_terminal",
    "confirmed_order_charged_once",
    "confirmed_order_stock_confirmed",
    "cancelled_order_no_net_charge",
    "cancelled_order_no_held_stock",
    "stock_conserved",
    "confirmed_order_notified_once",
)
SERVICES = ("orders", "payments", "inventory", "notifications")
TERMINAL_SAGA_STATES = frozenset({"completed", "compensated"})
_PAGE_CAP = 1_000  # pages per listing: a runaway paging loop stops here


class _HasUrls(Protocol):
    def url(self, service: str) -> str: ...


Json = dict[str, Any]


@dataclass(slots=True)
class ShopState:
    """Everything the rules look at, as the services reported it."""

    orders: list[Json] = field(default_factory=list)
    sagas: list[Json] = field(default_factory=list)
    payments: list[Json] = field(default_factory=list)
    reservations: list[Json] = field(default_factory=list)
    products: list[Json] = field(default_factory=list)
    notifications: list[Json] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _ReadError(Exception):
    pass


def check_shop_invariants(
    system_or_urls: _HasUrls | Mapping[str, str],
    *,
    initial_stock: Mapping[str, int] | None = None,
    client: httpx.Client | None = None,
    page_size: int = 500,
) -> InvariantReport:
    """Read the shop's state and check every rule.

    Args:
        system_or_urls: a running system (`.url(service)`) or `{service: base URL}` for
            orders, payments, inventory and notifications.
        initial_stock: `{sku: stock at creation}`; `stock_conserved` checks these products
            only (None: the rule is skipped, since the initial stock is unknown).
        client: httpx client to use (default: a new one; tests pass a MockTransport).
        page_size: items per page when listing (default 500).
    """
    urls = _urls(system_or_urls)
    own = client is None
    http = client or http_clients.client(timeout=10.0)
    try:
        state = read_shop_state(urls, client=http, page_size=page_size)
    finally:
        if own:
            http.close()
    return evaluate_shop_state(state, initial_stock=initial_stock)


def _urls(system_or_urls: _HasUrls | Mapping[str, str]) -> dict[str, str]:
    if isinstance(system_or_urls, Mapping):
        missing = [s for s in SERVICES if s not in system_or_urls]
        if missing:
            raise ValueError(f"no URL for {', '.join(missing)}; expected one per {SERVICES}")
        return {s: str(system_or_urls[s]).rstrip("/") for s in SERVICES}
    return {s: system_or_urls.url(s).rstrip("/") for s in SERVICES}


# --- reading -----------------------------------------------------------------------------


def read_shop_state(
    urls: Mapping[str, str], *, client: httpx.Client, page_size: int = 500
) -> ShopState:
    """List orders, sagas, payments, reservations, products and notifications."""
    state = ShopState()
    listings: list[tuple[str, str, Callable[[list[Json]], None]]] = [
        ("orders", f"{urls['orders']}/orders", state.orders.extend),
        ("sagas", f"{urls['orders']}/sagas", state.sagas.extend),
        ("payments", f"{urls['payments']}/payments", state.payments.extend),
        ("reservations", f"{urls['inventory']}/reservations", state.reservations.extend),
        ("products", f"{urls['inventory']}/products", state.products.extend),
    ]
    for what, url, store in listings:
        try:
            store(_list_all(client, url, page_size))
        except _ReadError as exc:
            state.errors.append(f"{what}: {exc}")
    try:
        state.notifications = _notifications(client, urls["notifications"], state.orders, page_size)
    except _ReadError as exc:
        state.errors.append(f"notifications: {exc}")
    return state


def _get(client: httpx.Client, url: str, params: Mapping[str, Any]) -> httpx.Response:
    try:
        return client.get(url, params=dict(params))
    except httpx.HTTPError as exc:
        raise _ReadError(f"GET {url}: {type(exc).__name__}: {exc}") from exc


def _page(response: httpx.Response) -> tuple[list[Json], int | None]:
    if response.status_code != 200:
        raise _ReadError(
            f"GET {response.request.url}: HTTP {response.status_code}: {response.text[:200]}"
        )
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise _ReadError(f"GET {response.request.url}: expected {{'items': [...], 'total': n}}")
    total = body.get("total")
    return body["items"], total if isinstance(total, int) else None


def _list_all(
    client: httpx.Client, url: str, page_size: int, params: Mapping[str, Any] | None = None
) -> list[Json]:
    items: list[Json] = []
    for _ in range(_PAGE_CAP):
        page, total = _page(
            _get(client, url, {**(params or {}), "limit": page_size, "offset": len(items)})
        )
        items.extend(page)
        if not page or len(page) < page_size or (total is not None and len(items) >= total):
            return items
    raise _ReadError(f"GET {url}: more than {_PAGE_CAP} pages")


def _notifications(
    client: httpx.Client, base: str, orders: Iterable[Json], page_size: int
) -> list[Json]:
    url = f"{base}/notifications"
    first = _get(client, url, {"limit": page_size, "offset": 0})
    if first.status_code == 200:
        return _list_all(client, url, page_size)
    # A service that only answers per order: ask for each order.
    found: list[Json] = []
    for order in orders:
        found += _list_all(client, url, page_size, {"order_id": order["id"]})
    return found


# --- the rules ---------------------------------------------------------------------------


def evaluate_shop_state(
    state: ShopState, *, initial_stock: Mapping[str, int] | None = None
) -> InvariantReport:
    """Apply every rule to a state already read (pure: unit tests feed synthetic states)."""
    violations: list[Violation] = []
    payments = _by_order(state.payments)
    reservations = _by_order(state.reservations)
    notifications = _by_order(state.notifications)
    for order in sorted(state.orders, key=lambda o: int(o["id"])):
        violations += _order_rules(order, payments, reservations, notifications)
    violations += _saga_rules(state.sagas)
    checked = {
        "orders": len(state.orders),
        "sagas": len(state.sagas),
        "payments": len(state.payments),
        "reservations": len(state.reservations),
        "notifications": len(state.notifications),
    }
    if initial_stock is not None:
        violations += _stock_rules(state, initial_stock)
        checked["products"] = len(initial_stock)
    return InvariantReport(
        violations=tuple(violations), checked=checked, errors=tuple(state.errors)
    )


def _by_order(items: Iterable[Json]) -> dict[int, list[Json]]:
    grouped: dict[int, list[Json]] = defaultdict(list)
    for item in items:
        if isinstance(item.get("order_id"), int):
            grouped[item["order_id"]].append(item)
    return grouped


def _statuses(items: Iterable[Json], key: str = "status") -> Counter[str]:
    return Counter(str(item.get(key)) for item in items)


def _order_rules(
    order: Json,
    payments: Mapping[int, list[Json]],
    reservations: Mapping[int, list[Json]],
    notifications: Mapping[int, list[Json]],
) -> list[Violation]:
    order_id = int(order["id"])
    status = order.get("status")
    paid = _statuses(payments.get(order_id, []))
    held = _statuses(reservations.get(order_id, []))
    notified = _statuses(notifications.get(order_id, []), key="type")["order.confirmed"]
    found: list[Violation] = []

    def add(rule: str, detail: str) -> None:
        found.append(Violation(rule=rule, detail=detail, order_id=order_id))

    if status == "confirmed":
        captured = [p for p in payments.get(order_id, []) if p.get("status") == "captured"]
        if len(captured) != 1 or paid["refunded"]:
            add(
                "confirmed_order_charged_once",
                f"confirmed with payments {_show(paid)}; expected exactly one captured",
            )
        elif order.get("payment_id") not in (None, captured[0].get("id")):
            add(
                "confirmed_order_charged_once",
                f"order's payment_id {order.get('payment_id')} is not its captured "
                f"payment {captured[0].get('id')}",
            )
        if held["confirmed"] != 1 or held["held"]:
            add(
                "confirmed_order_stock_confirmed",
                f"confirmed with reservations {_show(held)}; expected one confirmed",
            )
        if notified != 1:
            add(
                "confirmed_order_notified_once",
                f"{notified} order.confirmed notifications; expected exactly 1",
            )
    elif status == "cancelled":
        if paid["captured"]:
            add(
                "cancelled_order_no_net_charge",
                f"cancelled but payments are {_show(paid)}: "
                f"{paid['captured']} captured, not refunded",
            )
        if held["held"] or held["confirmed"]:
            add("cancelled_order_no_held_stock", f"cancelled but reservations are {_show(held)}")
        if notified:
            add(
                "confirmed_order_notified_once",
                f"cancelled but notified as confirmed {notified} time(s)",
            )
    else:
        add("order_settled", f"status {status!r}; expected confirmed or cancelled")
    return found


def _saga_rules(sagas: Iterable[Json]) -> list[Violation]:
    found = []
    for saga in sagas:
        state = saga.get("state")
        if state not in TERMINAL_SAGA_STATES:
            detail = f"saga {saga.get('id')} is {state!r} at step {saga.get('step')!r}"
            if saga.get("last_error"):
                detail += f" (last error: {str(saga['last_error'])[:120]})"
            order_id = saga.get("order_id")
            found.append(
                Violation("saga_terminal", detail, order_id if isinstance(order_id, int) else None)
            )
    return found


def _stock_rules(state: ShopState, initial_stock: Mapping[str, int]) -> list[Violation]:
    products = {p.get("sku"): p for p in state.products}
    held: Counter[str] = Counter()
    confirmed: Counter[str] = Counter()
    for reservation in state.reservations:
        bucket = {"held": held, "confirmed": confirmed}.get(str(reservation.get("status")))
        if bucket is not None:
            for item in reservation.get("items", []):
                bucket[item["sku"]] += int(item["quantity"])
    bought: Counter[str] = Counter()
    for order in state.orders:
        if order.get("status") == "confirmed":
            for item in order.get("items", []):
                bought[item["sku"]] += int(item["quantity"])
    found = []
    for sku, initial in sorted(initial_stock.items()):
        product = products.get(sku)
        if product is None:
            found.append(Violation("stock_conserved", f"product {sku} not found in inventory"))
            continue
        stock = int(product.get("stock", 0))
        total = stock + held[sku] + confirmed[sku]
        if total != initial:
            found.append(
                Violation(
                    "stock_conserved",
                    f"{sku}: stock {stock} + held {held[sku]} + confirmed {confirmed[sku]} "
                    f"= {total}, expected the initial {initial}",
                )
            )
        if confirmed[sku] != bought[sku]:
            found.append(
                Violation(
                    "stock_conserved",
                    f"{sku}: {confirmed[sku]} confirmed in inventory but confirmed orders "
                    f"bought {bought[sku]}",
                )
            )
    return found


def _show(counts: Counter[str]) -> str:
    return (
        "{" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + "}" if counts else "none"
    )
