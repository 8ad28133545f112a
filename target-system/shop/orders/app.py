"""The ASGI entry point `shop.orders.app:app`, configured from the environment."""

from __future__ import annotations

from shop.orders.factory import build_app

app = build_app()
