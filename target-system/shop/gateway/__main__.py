"""`python -m shop.gateway`: serve the app with uvicorn on HOST:PORT from the environment."""

from __future__ import annotations

from shop.common.runner import run_service
from shop.gateway.settings import GatewaySettings

if __name__ == "__main__":
    run_service("shop.gateway.app:app", GatewaySettings())
