"""The shared report stack: templates shipped with the package, the frame, the checks table
and the plot helpers every report uses."""

from __future__ import annotations

from importlib.resources import files

from harness.report import CheckRow, Page, render_page
from harness.report.plots import (
    Band,
    Line,
    Window,
    breaker_lanes,
    line_plot,
    state_runs,
    window_lanes,
)

TEMPLATES = (
    "base.html.j2",
    "macros.html.j2",
    "chaos.html.j2",
    "load.html.j2",
    "pipeline.html.j2",
    "contracts.html.j2",
)


def test_templates_are_package_data() -> None:
    folder = files("harness.report") / "templates"
    for name in TEMPLATES:
        assert (folder / name).is_file(), name


def test_frame_shows_the_verdict_and_escapes_what_it_is_given() -> None:
    rows = [
        CheckRow(
            name="p95 <all>",
            status="failed",
            kind="slo",
            observed="412 ms",
            limit="<= 250 ms",
            detail="missed by 162 ms",
        ),
        CheckRow(
            name="invariants",
            status="passed",
            detail="line one\nline two",
            evidence='{"window": [1, 2]}',
        ),
    ]
    page = render_page(
        "pipeline.html.j2",
        page=Page(title="Run <1>", status="failed", summary="1 of 2", meta=("a", "b")),
        stages=[],
        seed="7",
        replay="harness run",
        versions="",
    )
    assert '<div class="verdict failed">' in page
    assert "Run &lt;1&gt;" in page
    assert "a · b" in page
    from harness.report.page import environment

    table = (
        environment()
        .from_string('{% from "macros.html.j2" import checks_table %}{{ checks_table(rows) }}')
        .render(rows=rows)
    )
    assert table.index("p95 &lt;all&gt;") < table.index("invariants")
    assert '<span class="badge failed">failed</span>' in table
    assert "<pre>line one\nline two</pre>" in table  # multi-line detail keeps its lines
    assert "<details><summary>evidence</summary>" in table


def test_state_runs_merge_equal_neighbours_and_last_until_the_end() -> None:
    series = [(1.0, 0.0), (2.0, 0.0), (3.0, 1.0), (4.0, 1.0), (5.0, 0.0)]
    assert state_runs(series, end=9.0) == [(0.0, 1.0, 3.0), (1.0, 3.0, 5.0), (0.0, 5.0, 9.0)]


def test_breaker_lanes_have_a_legend_of_the_declared_states_and_none_without_data() -> None:
    names = {0.0: "closed", 1.0: "open", 2.0: "half_open"}
    assert breaker_lanes({}, state_names=names, bands=[], duration=10) is None
    svg = breaker_lanes(
        {"a->b": [(0.0, 0.0), (3.0, 1.0)]},
        state_names=names,
        bands=[Band("slow b", 2.0, 5.0)],
        duration=10,
    )
    assert svg is not None
    assert svg.startswith("<svg")
    for label in ("closed", "open", "half_open", "a-&gt;b"):
        assert label in svg


def test_a_time_axis_runs_to_the_end_of_the_run_not_of_the_data() -> None:
    svg = line_plot(
        [Line("p95", [(0.0, 1.0), (10.0, 2.0)])],
        title="latency",
        ylabel="ms",
        bands=[Band("fault one", 3.0, None)],  # open-ended: shaded to the end
        duration=30,
    )
    assert "<!-- 30 -->" in svg  # a tick at the run's end, though the data stops at 10
    assert "fault one" in svg
    assert "p95" in svg


def test_window_lanes_show_each_window_with_its_status() -> None:
    assert window_lanes([], title="w", bands=[], duration=5) is None
    svg = window_lanes(
        [Window("opens", 1.0, 3.0, "passed", 2.0), Window("closes", 3.0, None, "failed")],
        title="Assertion windows",
        bands=[],
        duration=5,
    )
    assert svg is not None
    assert "passed" in svg
    assert "failed" in svg
    assert "opens" in svg


def test_evidence_is_one_compact_line_per_key() -> None:
    from harness.report import format_evidence

    text = format_evidence({"window": [1.0, None], "observed": [[3.1, 0.0], [4.2, 1.0]]})
    assert text.splitlines() == ["observed: [[3.1, 0.0], [4.2, 1.0]]", "window: [1.0, null]"]
    assert format_evidence({}) == ""


def test_a_time_axis_can_start_before_zero_and_every_plot_shows_the_same_span() -> None:
    from harness.report.plots import figure, finish_time_axis

    _, axes = figure(2.0)
    finish_time_axis(axes, ylabel="", duration=30.0, start=-1.5)
    assert axes.get_xlim() == (-1.5, 30.0)
    _, axes = figure(2.0)
    finish_time_axis(axes, ylabel="", duration=30.0)
    assert axes.get_xlim() == (0.0, 30.0)


def test_a_long_lane_name_wraps_on_two_lines_instead_of_being_cut() -> None:
    from harness.report.plots import _lane_label

    name = "breaker of orders->payments opens within 8 s of the fault"
    assert _lane_label(name) == "breaker of orders->payments\nopens within 8 s of the fault"
    assert _lane_label("short") == "short"
    assert _lane_label("word " * 30).count("\n") == 1
    assert _lane_label("word " * 30).endswith("…")
