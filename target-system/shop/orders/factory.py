"""`build_app`: the orders FastAPI app with its clients, saga runner, relay and recovery."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from shop.common import metrics
from shop.common.app import create_app, periodic_task, register_test_reset, run_at_startup
from shop.common.client import ResilientClient
from shop.common.db import make_engine
from shop.common.provider_states import register_provider_states
from shop.orders.clients import InventoryClient, NotificationsClient, PaymentsClient, UsersClient
from shop.orders.outbox import OutboxRelay
from shop.orders.placement import OrderPlacement
from shop.orders.ports import SagaPorts
from shop.orders.provider_states import latest_event, provider_states
from shop.orders.recovery import SagaRecovery, recovery_hook
from shop.orders.routes import build_router
from shop.orders.saga import SagaOptions, SagaRunner
from shop.orders.settings import OrdersSettings
from shop.orders.store import SagaStore

SERVICE = "orders"
DEPENDENCIES = ("users", "inventory", "payments", "notifications")


def build_app(
    *,
    settings: OrdersSettings | None = None,
    engine: Engine | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """The orders app. Keyword-only, all optional:

    - `settings` (read from the environment), `engine` (from `settings.database_url`);
    - `transports`: an httpx transport per dependency name (tests wire sibling apps or
      `httpx.MockTransport` here; default: the network);
    - `clock`: for the clients' breakers and retry budgets (default: time.monotonic).
    """
    settings = settings or OrdersSettings()
    engine = engine or make_engine(settings.database_url)
    transports = transports or {}
    clients = {
        name: ResilientClient(
            service=SERVICE,
            dependency=name,
            base_url=getattr(settings, f"{name}_url"),
            settings=settings,
            clock=clock,
            transport=transports.get(name),
        )
        for name in DEPENDENCIES
    }
    ports = SagaPorts(
        users=UsersClient(clients["users"]),
        inventory=InventoryClient(clients["inventory"]),
        payments=PaymentsClient(clients["payments"]),
        events=NotificationsClient(clients["notifications"]),
    )
    store = SagaStore(engine, outbox_enabled=settings.outbox_enabled)
    runner = SagaRunner(
        store=store,
        ports=ports,
        options=SagaOptions(
            send_idempotency_key=settings.orders_send_idempotency_key,
            unsafe_charge_attempts=settings.retry_max_attempts,
        ),
    )
    relay = OutboxRelay(store=store, events=ports.events)

    def start_up() -> None:
        store.create_tables()
        _create_series()
        relay.refresh_backlog_gauge()
        runner.refresh_in_flight_gauge()

    app = create_app(
        service=SERVICE,
        settings=settings,
        engine=engine,
        dependencies=clients,
        lifespan_hooks=[
            run_at_startup(start_up),
            recovery_hook(
                SagaRecovery(store=store, runner=runner), interval=settings.saga_recovery_interval
            ),
            periodic_task(
                "outbox-relay", relay.deliver_pending, interval=settings.outbox_relay_interval
            ),
        ],
        description="Order saga (user -> reserve -> charge -> confirm) with an outbox.",
    )
    app.include_router(
        build_router(
            store=store,
            placement=OrderPlacement(
                store=store,
                runner=runner,
                ports=ports,
                answer_within=settings.orders_answer_within,
            ),
        )
    )
    register_test_reset(app, settings=settings, reset=store.reset)
    register_provider_states(
        app,
        settings=settings,
        states=provider_states(store=store, clients=clients),
        messages=lambda request: latest_event(store, request),
    )
    app.state.saga_store = store
    app.state.saga_runner = runner
    app.state.outbox_relay = relay
    return app


def _create_series() -> None:
    """The orders series exist from start-up at 0, so rates and absences read well."""
    for outcome in ("completed", "compensated", "failed"):
        metrics.SAGA_TOTAL.labels(service=SERVICE, outcome=outcome)
    for action in ("resumed", "compensated"):
        metrics.SAGA_RECOVERED.labels(service=SERVICE, action=action)
    metrics.OUTBOX_DELIVERED.labels(service=SERVICE)
    metrics.OUTBOX_DELIVERY_FAILURES.labels(service=SERVICE)
