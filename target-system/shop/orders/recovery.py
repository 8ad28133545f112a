"""Recovery: sagas left in flight are resumed or compensated, and stuck ones retried.

At start-up (`recover_at_startup`) every saga the database shows in flight belonged to a
process that died: a `running` one is resumed from its last step (each step repeats the same
idempotent request), a `compensating` one goes on compensating. Afterwards (`retry_stuck`,
every SAGA_RECOVERY_INTERVAL) every in-flight saga no task of this process is driving is
driven again: compensations that failed (a dependency was down) are retried until they end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shop.common import metrics
from shop.common.app import LifespanHook
from shop.orders.models import SagaState
from shop.orders.saga import SagaRunner
from shop.orders.store import SagaStore

logger = logging.getLogger(__name__)


class SagaRecovery:
    """Keyword-only: `store`, `runner`."""

    def __init__(self, *, store: SagaStore, runner: SagaRunner) -> None:
        self.store = store
        self.runner = runner

    async def recover_at_startup(self) -> int:
        """Drive every saga found in flight; returns how many there were."""
        found = self.store.in_flight()
        for saga in found:
            action = "resumed" if saga.state == SagaState.RUNNING else "compensated"
            metrics.SAGA_RECOVERED.labels(service="orders", action=action).inc()
            logger.info("recovery: saga %s found %s, %s", saga.id, saga.state, action)
            await self._drive(saga.id)
        self.runner.refresh_in_flight_gauge()
        return len(found)

    async def retry_stuck(self) -> int:
        """Drive again every in-flight saga nobody drives; returns how many."""
        stuck = [s for s in self.store.in_flight() if not self.runner.is_active(s.id)]
        for saga in stuck:
            await self._drive(saga.id)
        return len(stuck)

    async def _drive(self, saga_id: int) -> None:
        try:
            await self.runner.run(saga_id)
        except Exception:
            logger.exception("recovery: saga %s failed to run", saga_id)

    async def run_forever(self, *, interval: float) -> None:
        """Start-up recovery, then `retry_stuck` every `interval` seconds."""
        recovered = False
        while True:
            try:
                if recovered:
                    await self.retry_stuck()
                else:
                    await self.recover_at_startup()
                    recovered = True
            except Exception:
                logger.exception("recovery pass failed")
            await asyncio.sleep(interval)


def recovery_hook(recovery: SagaRecovery, *, interval: float) -> LifespanHook:
    """A lifespan hook running `recovery.run_forever` in the background (start-up not held)."""

    @asynccontextmanager
    async def hook(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(recovery.run_forever(interval=interval), name="saga-recovery")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await recovery.runner.aclose()

    return hook
