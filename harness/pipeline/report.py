"""The combined report: one self-contained HTML page, verdict first, links into each stage."""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

from harness.pipeline.model import PipelineResult, StageResult

__all__ = ["render_report"]

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#1d2433}
h1{margin:0 0 .2rem}h2{margin-top:2.2rem;border-bottom:1px solid #dde2ea;padding-bottom:.3rem}
.verdict{display:inline-block;padding:.35rem .9rem;border-radius:.4rem;font-weight:700;
color:#fff;font-size:1.3rem;margin:.6rem 0}
.pass{background:#1f8a4c}.fail{background:#c0392b}.skipped{background:#8a7a1f}
.tag{font-weight:700;padding:.05rem .45rem;border-radius:.3rem;color:#fff;font-size:.8rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e8ebf0;vertical-align:top}
th{background:#f4f6f9;font-weight:600}
td.check{min-width:16rem;max-width:28rem}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{white-space:pre-wrap;margin:0;font-size:.82rem;color:#4a5366}
.meta{color:#5b6477;font-size:.9rem}a{color:#1f5fbf}
"""


def _tag(passed: bool, *, skipped: bool = False) -> str:
    if skipped:
        return '<span class="tag skipped">SKIPPED</span>'
    return f'<span class="tag {"pass" if passed else "fail"}">{"PASS" if passed else "FAIL"}</span>'


def _link(path: Path, base: Path, label: str) -> str:
    href = os.path.relpath(path.resolve(), base.resolve())
    return f'<a href="{html.escape(href)}">{html.escape(label)}</a>'


def _stage_rows(result: PipelineResult) -> str:
    rows = []
    for stage in result.stages:
        rows.append(
            f"<tr><td>{_tag(stage.passed, skipped=stage.skipped is not None)}</td>"
            f'<td><a href="#{stage.name}">{stage.name}</a></td>'
            f"<td>{html.escape(stage.headline)}</td>"
            f'<td class="num">{stage.duration:.0f} s</td></tr>'
        )
    return "".join(rows)


def _stage_section(stage: StageResult, base: Path) -> str:
    tag = _tag(stage.passed, skipped=stage.skipped is not None)
    parts = [f'<h2 id="{stage.name}">{tag} {stage.name}</h2>']
    parts.append(f"<p>{html.escape(stage.headline)}</p>")
    if stage.error:
        parts.append(f"<pre>{html.escape(stage.error)}</pre>")
    if stage.reports:
        links = " · ".join(_link(path, base, label) for label, path in stage.reports)
        parts.append(f"<p>Reports: {links}</p>")
    if stage.checks:
        # Failures first: they are what a reader came for.
        ordered = sorted(stage.checks, key=lambda c: (c.passed, c.skipped is not None))
        rows = "".join(
            f"<tr><td>{_tag(c.passed, skipped=c.skipped is not None)}</td>"
            f'<td>{html.escape(c.group)}</td><td class="check">'
            + (_link(c.link, base, c.name) if c.link else html.escape(c.name))
            + f"</td><td><pre>{html.escape(c.skipped or c.detail)}</pre></td></tr>"
            for c in ordered
        )
        parts.append(
            f"<table><tr><th></th><th>of</th><th>check</th><th>detail</th></tr>{rows}</table>"
        )
    return "\n".join(parts)


def render_report(result: PipelineResult) -> str:
    base = result.out_dir
    verdict = "PASS" if result.passed else "FAIL"
    seed = "each stage's default" if result.seed is None else str(result.seed)
    versions = ", ".join(f"{k} {v}" for k, v in result.versions.items())
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result.started_at))
    replay = result.replay_command
    sections = "\n".join(_stage_section(stage, base) for stage in result.stages)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>harness run: {verdict}</title><style>{STYLE}</style></head><body>
<h1>Resilience report</h1>
<div class="meta">{html.escape(str(result.topology))} · started {started} ·
{result.duration:.0f} s</div>
<div class="verdict {"pass" if result.passed else "fail"}">{verdict}</div>
<table><tr><th></th><th>stage</th><th>result</th><th>time</th></tr>{_stage_rows(result)}</table>
<p class="meta">Seed: {html.escape(seed)} · replay: <code>{html.escape(replay)}</code><br>
Versions: {html.escape(versions)}</p>
{sections}
</body></html>
"""
