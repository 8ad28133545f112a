"""`python -m shop.inventory`: serve the inventory app on HOST/PORT (default 127.0.0.1:8102)."""

from shop.common.runner import run_service
from shop.inventory.settings import InventorySettings

if __name__ == "__main__":
    run_service("shop.inventory.app:app", InventorySettings())
