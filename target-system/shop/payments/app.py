"""The WSGI entry point: `gunicorn -w 1 --threads 8 shop.payments.app:app`.

One worker, so the metrics registry and the SQLite writer stay in one process.
"""

from __future__ import annotations

from shop.payments.factory import create_app

app = create_app()
