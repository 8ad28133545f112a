"""The whole suite: modules with a test marked `slow` are collected first.

`nox -s tests` hands whole modules to its workers in collection order (`--dist loadfile`),
so a long module collected last ran alone at the end while the other workers stood idle
(a tail of about a minute at one busy core of two). Marking the long modules `slow` and
putting them first lets the short ones fill the gaps instead. Within each group the order
is pytest's own.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow_modules = {item.module for item in items if item.get_closest_marker("slow")}  # type: ignore[attr-defined]
    items.sort(key=lambda item: getattr(item, "module", None) not in slow_modules)
