"""`python -m shop.users`: serve the users app on HOST/PORT (default 127.0.0.1:8101)."""

from shop.common.runner import run_service
from shop.users.settings import UsersSettings

if __name__ == "__main__":
    run_service("shop.users.app:app", UsersSettings())
