"""The shop's chaos traffic (chaos/shop_traffic.py) walks every path, as planned by the seed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.chaos import load_experiment
from harness.traffic import ClassTraffic, WeightedDeck, traffic_source

CHAOS = Path(__file__).resolve().parents[2] / "chaos"
EXPERIMENTS = sorted(CHAOS.glob("*.yaml"))
STOCK_RULES = {None, "stock_conserved", "cancelled_order_no_held_stock"}


def test_a_deck_deals_each_name_by_its_weight_in_every_round() -> None:
    deck = WeightedDeck({"a": 3, "b": 1, "c": 0}, seed=7)
    names = deck.names(range(40))
    for start in range(0, 40, 4):
        assert Counter(names[start : start + 4]) == {"a": 3, "b": 1}
    assert names == WeightedDeck({"a": 3, "b": 1}, seed=7).names(range(40))
    assert names != WeightedDeck({"a": 3, "b": 1}, seed=8).names(range(40))


class _Shop:
    """Answers setup's two creations; the plan is what the test reads."""

    def url(self, service: str) -> str:
        return f"http://{service}"

    @staticmethod
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": 1})


def _planned(spec: ClassTraffic, seed: int, count: int) -> Counter[str]:
    source: Any = traffic_source(spec, base_dir=CHAOS)
    with httpx.Client(transport=httpx.MockTransport(_Shop.handle)) as client:
        source.setup(_Shop(), seed, client)
    return Counter(source._plan(index)[0] for index in range(count))


def _checks_stock(experiment: Any) -> bool:
    for assertion in experiment.assertions:
        invariant = getattr(assertion, "invariant", None)
        rules = getattr(assertion, "rules", None)
        if invariant and (rules is None or set(rules) & STOCK_RULES):
            return True
    return False


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_experiment_that_checks_stock_sends_five_declined_orders(path: Path) -> None:
    experiment = load_experiment(path)
    spec = experiment.method.traffic
    assert isinstance(spec, ClassTraffic), "the shop's experiments use the shop's traffic class"
    # The requests planned over three quarters of the method: a slow system sends fewer.
    count = int(spec.rate * experiment.method.effective_duration * 0.75)
    paths = _planned(spec, experiment.seed or 0, count)
    if _checks_stock(experiment):  # experiments on reads or shedding may place no order
        assert paths["place_order_declined"] >= 5, paths
        assert paths["place_order"] >= 3, paths


def test_the_default_mix_walks_every_order_path_in_each_round() -> None:
    spec = ClassTraffic.model_validate({"class": "shop_traffic.py:ShopTraffic"})
    paths = _planned(spec, seed=1, count=14)
    assert set(paths) == {
        "place_order",
        "place_order_declined",
        "place_order_unknown_user",
        "place_order_out_of_stock",
        "place_order_contended",
        "place_order_replay",
        "create_user",
        "get_order",
    }
    assert paths["place_order_declined"] == 3


def test_unknown_paths_in_the_mix_are_refused() -> None:
    spec = ClassTraffic.model_validate(
        {"class": "shop_traffic.py:ShopTraffic", "options": {"mix": {"checkout": 1}}}
    )
    with pytest.raises(Exception, match="unknown paths in `mix`: checkout"):
        traffic_source(spec, base_dir=CHAOS)


class _System:
    def url(self, service: str) -> str:
        return f"http://{service}.test"


def test_a_replay_of_an_order_that_failed_before_it_existed_may_place_it() -> None:
    """Users down at the original's user check: nothing was written, so the replay (users
    back) is the first placement, a 201, not a repeat of the failure (seen by explore)."""
    keys: Counter[str] = Counter()

    def shop(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/orders":
            key = request.headers["Idempotency-Key"]
            keys[key] += 1
            if keys[key] == 1:  # every original fails before its order exists
                return httpx.Response(503, json={"error": "dependency_unavailable"})
            return httpx.Response(201, json={"id": len(keys), "status": "confirmed"})
        return httpx.Response(201, json={"id": 1})

    spec = ClassTraffic.model_validate(
        {
            "class": "shop_traffic.py:ShopTraffic",
            "options": {"mix": {"place_order": 4, "place_order_replay": 1}},
        }
    )
    source: Any = traffic_source(spec, base_dir=CHAOS)
    with httpx.Client(transport=httpx.MockTransport(shop)) as client:
        source.setup(_System(), 1, client)
        records = [source.request(index, client) for index in range(15)]
    replays = [r for r in records if r.name == "place_order_replay"]
    assert replays, [r.name for r in records]
    assert all(r.status == 201 and r.expected for r in replays), replays
