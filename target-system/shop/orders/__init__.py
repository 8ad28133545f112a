"""The orders service: a saga orchestrator (user -> reserve -> charge -> confirm) with an outbox.

Modules: `models` (tables), `store` (persistence, one transaction per saga step), `ports`
(what the saga needs from users, inventory, payments and notifications), `clients` (those
ports over `ResilientClient`), `saga` (steps and compensation), `placement` (POST /orders:
idempotency, validation, pricing), `outbox` (the relay), `recovery` (start-up resume and
compensation retries), `routes` and `app`.
"""
