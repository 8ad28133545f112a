"""The outbox relay: delivers events written with their order's state change, in order.

Each pass sends the pending events oldest first to notifications and marks each one sent
after its answer. A crash between the answer and the mark sends it again on the next pass;
notifications drops the repeat by `event_id`, so every event takes effect exactly once.
An unavailable notifications service ends the pass (the next pass retries); a 4xx marks the
event rejected, since sending it again cannot help.
"""

from __future__ import annotations

import logging

from shop.common import metrics
from shop.common.errors import DependencyUnavailable
from shop.orders.models import OutboxStatus
from shop.orders.ports import EventsPort, Refused
from shop.orders.store import SagaStore

logger = logging.getLogger(__name__)


class OutboxRelay:
    """Keyword-only: `store`, `events` (where to send), `batch_size` (100 per pass)."""

    def __init__(self, *, store: SagaStore, events: EventsPort, batch_size: int = 100) -> None:
        self.store = store
        self.events = events
        self.batch_size = batch_size
        # Log an outage once when it starts and once when it ends, not on every pass.
        self._failing = False

    async def deliver_pending(self) -> int:
        """One pass; returns how many events were delivered."""
        delivered = 0
        try:
            for row in self.store.pending_events(limit=self.batch_size):
                try:
                    await self.events.publish(row.to_event())
                except DependencyUnavailable as exc:
                    metrics.OUTBOX_DELIVERY_FAILURES.labels(service="orders").inc()
                    self.store.note_failed_delivery(row.id)
                    logger.info(
                        "outbox: notifications unavailable (%s), retrying later", exc.detail
                    )
                    break
                except Refused as exc:
                    metrics.OUTBOX_DELIVERY_FAILURES.labels(service="orders").inc()
                    self.store.mark_event(row.id, status=OutboxStatus.REJECTED)
                    logger.error("outbox: event %s rejected: %s", row.event_id, exc)
                    continue
                self.store.mark_event(row.id, status=OutboxStatus.SENT)
                metrics.OUTBOX_DELIVERED.labels(service="orders").inc()
                delivered += 1
                if self._failing:
                    logger.info("outbox: delivering again")
                    self._failing = False
        finally:
            self.refresh_backlog_gauge()
        return delivered

    def refresh_backlog_gauge(self) -> None:
        metrics.OUTBOX_BACKLOG.labels(service="orders").set(self.store.backlog())
