"""The payments service (Flask, served by gunicorn): charge, refund and query payments.

Charges are idempotent by `Idempotency-Key`: the first answer is stored and replayed for the
same key and body; another body under the same key is a 409.
"""
