"""Short reports of chaos runs: text for terminals and CI logs, and one self-contained HTML
page per run (no external assets) with a small SVG plot: fault windows shaded, breaker
states per edge, and what the traffic's clients saw second by second."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text

from harness.chaos.journal import journal_stem
from harness.chaos.result import ExperimentResult
from harness.traffic import request_counts

__all__ = ["render_html", "render_text", "summary_table", "write_html_report"]

_MARK = {"passed": "PASS", "failed": "FAIL", "pending": "----", "skipped": "SKIP"}
_STATUS_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "aborted": "bold red",
    "interrupted": "yellow",
}


# --- text -------------------------------------------------------------------------------


def summary_table(results: Sequence[ExperimentResult]) -> Table:
    """One row per experiment: status, duration, seed, what failed."""
    table = Table(title="chaos experiments", show_lines=False)
    table.add_column("experiment", overflow="fold", min_width=24)
    table.add_column("status")
    table.add_column("duration", justify="right")
    table.add_column("seed", justify="right")
    table.add_column("assertions", justify="right")
    table.add_column("failed")
    for result in results:
        passed = sum(1 for a in result.assertions if a.status == "passed")
        failed = [a.name for a in result.failed_assertions] or (
            [result.reason] if result.reason else []
        )
        table.add_row(
            Path(result.experiment.source).stem or result.experiment.title,
            Text(result.status.upper(), style=_STATUS_STYLE.get(result.status, "")),
            f"{result.duration:.1f}s",
            str(result.seed),
            f"{passed}/{len(result.assertions)}",
            "; ".join(failed),
        )
    return table


def render_text(result: ExperimentResult) -> str:
    """The short report of one run, as plain text."""
    lines = [
        f"{result.experiment.title}  [{result.status.upper()}]  "
        f"{result.duration:.1f}s  seed {result.seed}"
    ]
    if result.reason:
        lines.append(f"  reason: {result.reason}")
    for when, probes in (("before", result.steady_before), ("after", result.steady_after)):
        for probe in probes:
            mark = "ok " if probe.result.ok else "BAD"
            lines.append(f"  steady state {when:<6} {mark} {probe.name}: {probe.result.summary}")
    for event in result.fault_events:
        state = "" if event.ok else f"  FAILED: {event.error}"
        lines.append(f"  fault {event.offset:+7.2f}s {event.action:<8} {event.description}{state}")
    for name, counts in request_counts(result.traffic).items():
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(counts["statuses"].items()))
        lines.append(
            f"  traffic {name}: {counts['total']} sent, {counts['ok']} ok, "
            f"{counts['error']} not ({statuses})"
        )
    for assertion in result.assertions:
        at = f" @{assertion.resolved_at:+.1f}s" if assertion.resolved_at is not None else ""
        lines.append(f"  {_MARK[assertion.status]} {assertion.name}{at}: {assertion.summary}")
    lines += [f"  error: {error}" for error in result.errors]
    if not result.passed:
        lines.append(f"  replay: {result.replay_command}")
    if result.journal_path:
        lines.append(f"  journal: {result.journal_path}")
    return "\n".join(lines)


# --- html -------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
.badge{padding:.15em .6em;border-radius:.3em;color:#fff;font-weight:600}
.passed{background:#2e7d32}.failed,.aborted{background:#c62828}.interrupted{background:#ef6c00}
.pending,.skipped{background:#888}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}code{background:#f4f4f4;padding:0 .3em}
.muted{color:#666}svg{border:1px solid #eee;background:#fcfcfc}
"""


def render_html(result: ExperimentResult) -> str:
    """One self-contained page for one run."""
    e = html.escape
    experiment = result.experiment
    rows = "".join(
        f"<tr><td>{e(a.name)}</td><td><span class='badge {a.status}'>{a.status}</span></td>"
        f"<td>{e(a.expectation)}</td><td>{e(a.summary)}</td>"
        f"<td>{'' if a.resolved_at is None else f'{a.resolved_at:+.1f}s'}</td></tr>"
        for a in result.assertions
    )
    steady = "".join(
        f"<tr><td>{when}</td><td>{e(p.name)}</td><td>{_badge(p.result.ok)}</td>"
        f"<td>{e(p.result.summary)}</td></tr>"
        for when, probes in (("before", result.steady_before), ("after", result.steady_after))
        for p in probes
    )
    events = "".join(
        f"<tr><td>{'' if ev.offset is None else f'{ev.offset:+.2f}s'}</td><td>{e(ev.kind)}</td>"
        f"<td class='{'' if ev.ok else 'failed'}'>{e(ev.message)}</td></tr>"
        for ev in result.events
    )
    errors = "".join(f"<li>{e(error)}</li>" for error in result.errors)
    paths = "".join(
        f"<tr><td>{e(name)}</td><td>{c['total']}</td><td>{c['ok']}</td><td>{c['error']}</td>"
        f"<td>{e(', '.join(f'{code}: {n}' for code, n in sorted(c['statuses'].items())))}</td></tr>"
        for name, c in request_counts(result.traffic).items()
    )
    traffic = (
        "<h2>Traffic</h2><table><tr><th>request</th><th>sent</th><th>ok</th><th>not ok</th>"
        f"<th>statuses</th></tr>{paths}</table>"
        if paths
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(experiment.title)}</title>
<style>{_CSS}</style></head><body>
<h1>{e(experiment.title)} <span class="badge {result.status}">{result.status}</span></h1>
<p class="muted">{e(experiment.source)} · {result.duration:.1f}s · seed {result.seed} ·
replay: <code>{e(result.replay_command)}</code></p>
<p>{e(experiment.description)}</p>
{f"<p><b>Reason:</b> {e(result.reason)}</p>" if result.reason else ""}
{f"<ul>{errors}</ul>" if errors else ""}
<h2>Timeline</h2>
{timeline_svg(result)}
<h2>Assertions</h2>
<table><tr><th>name</th><th>status</th><th>expectation</th><th>evidence</th><th>resolved</th></tr>{rows}</table>
{traffic}
<h2>Steady state</h2>
<table><tr><th>when</th><th>probe</th><th>result</th><th>detail</th></tr>{steady}</table>
<h2>Run log</h2>
<table><tr><th>t</th><th>kind</th><th>event</th></tr>{events}</table>
</body></html>
"""


def _badge(ok: bool) -> str:
    return (
        "<span class='badge passed'>ok</span>" if ok else "<span class='badge failed'>failed</span>"
    )


def write_html_report(result: ExperimentResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{journal_stem(result)}.html"
    path.write_text(render_html(result), encoding="utf-8")
    return path


# --- the plot ---------------------------------------------------------------------------

_W, _LEFT, _LANE = 1000, 170, 34
_STATE_COLOR = {0: "#2e7d32", 1: "#c62828", 2: "#f9a825"}


def _rect(x: float, y: float, width: float, height: float, fill: str, title: str = "") -> str:
    tip = f"<title>{html.escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0.5, width):.1f}" height="{height:.1f}" '
        f'fill="{fill}">{tip}</rect>'
    )


def _label(x: float, y: float, text: str, fill: str = "#222") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" fill="{fill}">{html.escape(text)}</text>'


def timeline_svg(result: ExperimentResult) -> str:
    """Fault windows, breaker states per edge and traffic outcomes on one time axis."""
    origin = result.method_started_at
    if origin is None:
        return "<p class='muted'>the method did not run</p>"
    windows = _fault_windows(result, origin)
    breakers = _breaker_lanes(result.breaker_series, origin)
    buckets = _traffic_buckets(result, origin)
    ends = [w[2] for w in windows] + [p[-1][0] for p in breakers.values() if p]
    end = max([*ends, float(len(buckets)), 1.0])
    scale = (_W - _LEFT - 10) / end
    height = 30 + (1 + len(breakers) + (1 if buckets else 0)) * _LANE
    out = [
        f'<svg width="{_W}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">'
    ]
    for label, start, stop in windows:  # shade every lane during each fault
        out.append(
            _rect(_LEFT + start * scale, 0, (stop - start) * scale, height - 20, "#c6282814", label)
        )
    y = 10
    out.append(_label(4, y + 14, "faults"))
    for label, start, stop in windows:
        x = _LEFT + start * scale
        out.append(_rect(x, y + 4, (stop - start) * scale, 14, "#c6282880", label))
        out.append(_label(x + 3, y + 15, label[:40], "#fff"))
    for edge, points in sorted(breakers.items()):
        y += _LANE
        out.append(_label(4, y + 14, f"breaker {edge}"))
        for (t0, value), (t1, _) in zip(points, [*points[1:], (end, 0.0)], strict=False):
            colour = _STATE_COLOR.get(int(value), "#888")
            out.append(_rect(_LEFT + t0 * scale, y + 4, (t1 - t0) * scale, 14, colour))
    if buckets:
        y += _LANE
        out.append(_label(4, y + 14, "traffic ok / error"))
        peak = max(ok + err for ok, err in buckets) or 1
        width = max(1.0, scale - 1)
        for second, (ok, err) in enumerate(buckets):
            x = _LEFT + second * scale
            ok_h, err_h = 24 * ok / peak, 24 * err / peak
            out.append(_rect(x, y + 26 - ok_h, width, ok_h, "#2e7d32", f"{ok} ok"))
            if err:
                out.append(
                    _rect(x, y + 26 - ok_h - err_h, width, err_h, "#c62828", f"{err} errors")
                )
    step = 5 if end <= 60 else 10
    for second in range(0, int(end) + 1, step):
        out.append(_label(_LEFT + second * scale, height - 2, f"{second}s", "#666"))
    out.append("</svg>")
    return "\n".join(out)


def _fault_windows(result: ExperimentResult, origin: float) -> list[tuple[str, float, float]]:
    windows = []
    for event in result.fault_events:
        if event.action == "apply" and event.ok:
            end = next(
                (
                    other.at
                    for other in result.fault_events
                    if other.fault_index == event.fault_index
                    and other.action in ("remove", "rollback")
                ),
                result.ended_at,
            )
            windows.append((event.description, event.at - origin, end - origin))
    return windows


def _breaker_lanes(
    series: Mapping[str, Sequence[tuple[float, float]]], origin: float
) -> dict[str, list[tuple[float, float]]]:
    lanes = {edge: [(t - origin, value) for t, value in points] for edge, points in series.items()}
    # Only edges whose breaker ever left closed are worth a lane.
    return {edge: sorted(points) for edge, points in lanes.items() if any(v for _, v in points)}


def _traffic_buckets(result: ExperimentResult, origin: float) -> list[tuple[int, int]]:
    buckets: dict[int, list[int]] = {}
    for record in result.traffic:
        second = int(record.started_at - origin)
        if second < 0:
            continue
        bucket = buckets.setdefault(second, [0, 0])
        bucket[0 if record.ok else 1] += 1
    if not buckets:
        return []
    return [tuple(buckets.get(s, [0, 0])) for s in range(max(buckets) + 1)]  # type: ignore[misc]
