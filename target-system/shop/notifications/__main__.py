"""`python -m shop.notifications`: serve the app on HOST/PORT (default 127.0.0.1:8105)."""

from shop.common.runner import run_service
from shop.notifications.settings import NotificationsSettings

if __name__ == "__main__":
    run_service("shop.notifications.app:app", NotificationsSettings())
