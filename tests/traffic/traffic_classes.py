"""A user's traffic class for the tests (`traffic_classes:NotesTraffic`): writes notes
and reads them back, following `harness.traffic.source`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from harness.traffic import TrafficRecord, TrafficSystem, WeightedDeck, request_rng, send


class NotesTraffic:
    def __init__(self, *, token: str, service: str = "notes", reads: int = 1) -> None:
        self.token = token
        self.service = service
        self.reads = reads
        self.url = ""
        self.deck: WeightedDeck | None = None
        self.seed = 0
        self.created: list[int] = []

    def setup(self, system: TrafficSystem, seed: int, client: httpx.Client) -> Mapping[str, Any]:
        self.url = system.url(self.service).rstrip("/")
        self.seed = seed
        self.deck = WeightedDeck({"write": 1, "read": self.reads}, seed)
        return {"notes_service": self.service}

    def request(self, index: int, client: httpx.Client) -> TrafficRecord:
        assert self.deck is not None
        name = self.deck.name(index)
        if name == "read":
            record, _ = send(client, "read", "GET", f"{self.url}/notes/1", expect=(200, 404))
            return record
        text = f"note {request_rng(self.seed, index).randrange(1000)}"
        record, response = send(
            client,
            "write",
            "POST",
            f"{self.url}/notes",
            expect=(201,),
            json={"text": text, "owner": "class"},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if response is not None and response.status_code == 201:
            self.created.append(int(response.json()["id"]))
        return record


class NotATraffic:
    def __init__(self) -> None:
        pass


def not_a_class() -> None:
    return None
