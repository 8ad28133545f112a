"""The ASGI entry point `shop.gateway.app:app`, configured from the environment."""

from __future__ import annotations

from shop.gateway.factory import build_app

app = build_app()
