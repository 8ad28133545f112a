"""The gateway: the single entry. Bearer-token auth with scopes, a per-client token-bucket rate
limit, routing to the services through `ResilientClient`s, and `GET /api/orders/{id}`, which
aggregates the order with its payment and user and degrades instead of failing.
"""
