"""node-shop traffic through the gateway: people sign up, place orders, look at them.

Each simulated user signs up once (POST /api/users), then, with think time between steps,
places an order (weight 3), views one of its orders (weight 2) or its own profile (weight 1).
URLs with ids are grouped under one name (`GET /api/orders/{id}`), so SLOs and reports have
one line per route.

Environment (optional): NODE_SHOP_WAIT_MIN / NODE_SHOP_WAIT_MAX seconds of think time
(0.2 / 0.8), NODE_SHOP_SEED (1) for the SKUs and quantities ordered.
"""

from __future__ import annotations

import itertools
import os
import random

from locust import FastHttpUser, between, task

WAIT_MIN = float(os.environ.get("NODE_SHOP_WAIT_MIN", "0.2"))
WAIT_MAX = float(os.environ.get("NODE_SHOP_WAIT_MAX", "0.8"))
SEED = int(os.environ.get("NODE_SHOP_SEED", "1"))
_user_numbers = itertools.count(1)


class Shopper(FastHttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        number = next(_user_numbers)
        self.rng = random.Random(SEED * 100_003 + number)
        self.orders: list[int] = []
        with self.client.post(
            "/api/users",
            json={"name": f"Shopper {number}", "email": f"shopper{number}@example.test"},
            catch_response=True,
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"sign-up answered {answer.status_code}")
                self.user_id = None
                return
            self.user_id = int(answer.json()["id"])

    @task(3)
    def place_order(self) -> None:
        if self.user_id is None:
            return
        items = [
            {"sku": f"SKU-{self.rng.randint(1, 20)}", "quantity": self.rng.randint(1, 3)}
            for _ in range(self.rng.randint(1, 3))
        ]
        with self.client.post(
            "/api/orders", json={"user_id": self.user_id, "items": items}, catch_response=True
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code} {_error_code(answer)}")
                return
            self.orders.append(int(answer.json()["id"]))

    @task(2)
    def view_order(self) -> None:
        if not self.orders:
            return
        order_id = self.rng.choice(self.orders)
        with self.client.get(
            f"/api/orders/{order_id}", name="GET /api/orders/{id}", catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {_error_code(answer)}")

    @task(1)
    def view_profile(self) -> None:
        if self.user_id is None:
            return
        with self.client.get(
            f"/api/users/{self.user_id}", name="GET /api/users/{id}", catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {_error_code(answer)}")


def _error_code(answer: object) -> str:
    try:
        return str(answer.json().get("error", ""))  # type: ignore[attr-defined]
    except Exception:
        return ""
