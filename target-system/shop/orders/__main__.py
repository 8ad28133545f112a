"""`python -m shop.orders`: serve the app with uvicorn on HOST:PORT from the environment."""

from __future__ import annotations

from shop.common.runner import run_service
from shop.orders.settings import OrdersSettings

if __name__ == "__main__":
    run_service("shop.orders.app:app", OrdersSettings())
