"""The project's own mutation suite: resilience regressions put into a copy of the shop.

Each mutant is a small code change in `target-system/shop` (never one of its protection
switches) that still starts. For each one this script copies the tree to a temporary
directory, applies the change, and runs the pipeline on the copy
(`harness run -t <copy>/target-system/system.toml --only <stage>`), stage by stage and
chaos experiment by experiment, stopping at the first failing check. It prints, per
mutant, killed or survived, the stage and the check that caught it, and the kill rate, and
writes `summary.json` and `summary.md` into `--out` (default `runs/mutants/`).

    python scripts/mutants.py --list
    python scripts/mutants.py --only retry-unkeyed-post,rate-limiter-never-429
    python scripts/mutants.py --stages contracts,fuzz,chaos,load --baseline
    nox -s mutants -- --only bulkhead-never-rejects

Exit status: 0 when every mutant run was killed, 1 when any survived (or could not be
judged), 2 for bad input (an unknown mutant, or a mutant whose code no longer matches the
tree: its text must occur exactly once).

A full run is long (every surviving stage runs every experiment): not for CI. The tests in
tests/chaos/test_detection_experiments.py use `build_tree` to show each new experiment
failing on the mutant it is meant to catch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "target-system"
SHARED_DIRS = ("chaos", "contracts", "load")  # what system.toml's [pipeline] points at
STAGES = ("contracts", "fuzz", "chaos", "load")
DEFAULT_STAGES = ("contracts", "chaos", "load")


@dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly once) by `new` in `path` under target-system."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    edits: tuple[Edit, ...]
    expected: str = ""  # where it should be caught (documentation, not judged)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "retry-unkeyed-post",
        "the client retries every request, a POST with no idempotency key included",
        (
            Edit(
                "shop/common/retry.py",
                "return has_idempotency_key or method.upper() in RETRYABLE_METHODS",
                "return True",
            ),
        ),
        "chaos 10: no unkeyed POST to users is ever sent twice",
    ),
    Mutant(
        "declined-keeps-reservation",
        "a saga whose payment is declined keeps the order's stock reservation",
        (
            Edit(
                "shop/orders/saga.py",
                "        if saga.reservation in (Effect.NONE, Effect.UNDONE):\n"
                "            return saga",
                "        if saga.charge == Effect.DECLINED or saga.reservation in "
                "(Effect.NONE, Effect.UNDONE):\n            return saga",
            ),
        ),
        "invariant cancelled_order_no_held_stock (declined orders in every experiment)",
    ),
    Mutant(
        "retry-no-backoff-no-bound",
        "retries with no backoff and no attempt bound or budget (a tight loop)",
        (
            Edit(
                "shop/common/retry.py",
                "        if state.attempt_number >= policy.max_attempts:\n            return True\n"
                "        if budget is not None and not budget.try_spend():",
                "        if state.attempt_number >= 50:\n            return True\n"
                "        if False:",
            ),
            Edit(
                "shop/common/retry.py",
                "        return policy.backoff(state.attempt_number, random=random)",
                "        return 0.0",
            ),
        ),
        "chaos 10: most attempts per read <= 3; retries wait a real backoff",
    ),
    Mutant(
        "bulkhead-never-rejects",
        "the bulkhead counts calls in flight but never refuses one",
        (
            Edit(
                "shop/common/bulkhead.py",
                "            if self._in_use >= self.max_concurrent:\n"
                "                return False\n",
                "",
            ),
        ),
        "chaos 09: the bulkhead rejects the excess; in use never above its bound",
    ),
    Mutant(
        "rate-limiter-never-429",
        "the gateway's rate limiter lets every request through",
        (Edit("shop/gateway/ratelimit.py", "        if self.rate == 0:", "        if True:"),),
        "chaos 11: the gateway answers 429 to the excess",
    ),
    Mutant(
        "no-read-timeout",
        "the resilient client waits for an answer forever (no read timeout)",
        (
            Edit(
                "shop/common/client.py",
                "                read=settings.http_read_timeout,\n"
                "                write=settings.http_read_timeout,",
                "                read=None,\n                write=settings.http_read_timeout,",
            ),
        ),
        "chaos 12: every user read ends within the caller's budget",
    ),
    Mutant(
        "timeout-above-caller",
        "the services' read timeout (6 s) is above the gateway's timeout on orders (5 s)",
        (
            Edit(
                "shop/common/settings.py",
                "http_read_timeout: float = Field(default=1.0, gt=0)",
                "http_read_timeout: float = Field(default=6.0, gt=0)",
            ),
        ),
        "chaos 14: the gateway never times out on orders",
    ),
    Mutant(
        "breaker-never-opens",
        "the circuit breaker never trips, whatever the failure rate",
        (
            Edit(
                "shop/common/breaker.py",
                "        if self._over_threshold(outcomes):\n"
                "            return self._transition(BreakerState.OPEN)",
                "        if False:\n            return self._transition(BreakerState.OPEN)",
            ),
        ),
        "chaos 01: breaker of orders->payments opens",
    ),
    Mutant(
        "breaker-never-closes",
        "a half-open breaker always goes back to open",
        (
            Edit(
                "shop/common/breaker.py",
                "BreakerState.OPEN if self._over_threshold(self._trial_outcomes) "
                "else BreakerState.CLOSED",
                "BreakerState.OPEN",
            ),
        ),
        "chaos 01: breaker goes half-open then closed",
    ),
    Mutant(
        "payments-ignores-idempotency-key",
        "payments charges again on every request, whatever its idempotency key",
        (
            Edit(
                "shop/payments/ledger.py",
                "    fingerprint = request_fingerprint(request)\n"
                "    existing = find_by_key(session, idempotency_key)",
                "    fingerprint = request_fingerprint(request)\n"
                "    idempotency_key = f\"{idempotency_key}#{__import__('uuid').uuid4().hex}\"\n"
                "    existing = find_by_key(session, idempotency_key)",
            ),
        ),
        "contracts (replay) or chaos 04: each order is charged exactly once",
    ),
    Mutant(
        "skipped-refund",
        "compensation never refunds a captured charge",
        (
            Edit(
                "shop/orders/saga.py",
                "        if saga.charge != Effect.DONE:\n            return saga\n"
                '        payment_id = _required(saga.payment_id, "payment_id")',
                "        if saga.charge != Effect.DONE or saga.charge == Effect.DONE:\n"
                "            return saga\n"
                '        payment_id = _required(saga.payment_id, "payment_id")',
            ),
        ),
        "invariant cancelled_order_no_net_charge",
    ),
    Mutant(
        "unknown-charge-assumed-failed",
        "a charge whose outcome is unknown is assumed not made (its key is never settled)",
        (
            Edit(
                "shop/orders/saga.py",
                "            found = await self.ports.payments.void_unless_charged(key)\n",
                "            found = None\n",
            ),
        ),
        "chaos 04 / invariants: no charge kept by a cancelled order",
    ),
    Mutant(
        "notifications-no-dedupe",
        "notifications records a redelivered event again",
        (
            Edit(
                "shop/notifications/routes.py",
                "            if seen is not None:\n                return False\n",
                "",
            ),
            Edit(
                "shop/notifications/routes.py",
                "                    event_id=event_id,\n",
                "                    event_id=f\"{event_id}#{__import__('uuid').uuid4().hex}\",\n",
            ),
        ),
        "invariant confirmed_order_notified_once",
    ),
)
BY_NAME = {m.name: m for m in MUTANTS}
BASELINE = Mutant("baseline", "the shop as it is (control: must survive)", ())


class MutantError(Exception):
    """A mutant that cannot be applied to this tree (its text is gone or ambiguous)."""


def build_tree(mutant: Mutant, dest: Path) -> Path:
    """Copy the shop into `dest`, apply `mutant`, return the copy's system.toml.

    `chaos/`, `contracts/` and `load/` are linked beside the copy so the topology's
    `[pipeline]` paths resolve. Services import `shop` from the copy: they start in the
    topology's directory, and `env_for(dest)` puts it first on PYTHONPATH as well.
    """
    target = dest / "target-system"
    shutil.copytree(
        TARGET,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.db", "*.egg-info", ".venv", "runs"),
    )
    for name in SHARED_DIRS:
        (dest / name).symlink_to(ROOT / name, target_is_directory=True)
    for edit in mutant.edits:
        path = target / edit.path
        text = path.read_text()
        count = text.count(edit.old)
        if count != 1:
            raise MutantError(
                f"mutant {mutant.name}: the text to replace occurs {count} times in "
                f"{edit.path} (expected once); update the mutant to the code"
            )
        path.write_text(text.replace(edit.old, edit.new))
    return target / "system.toml"


def env_for(dest: Path) -> dict[str, str]:
    """The environment a run on the copy needs: its `shop` first on the import path."""
    env = dict(os.environ)
    paths = [str(dest / "target-system"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


@dataclass
class Verdict:
    mutant: str
    what: str
    status: str  # killed, survived, error
    stage: str = ""
    check: str = ""
    detail: str = ""
    expected: str = ""
    duration_s: float = 0.0
    steps: list[str] = field(default_factory=list)


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _harness() -> list[str]:
    """The `harness` command of this interpreter's environment (else the one on PATH)."""
    beside = Path(sys.executable).parent / "harness"
    found = str(beside) if beside.exists() else shutil.which("harness")
    if found is None:
        raise SystemExit("no `harness` command: install the project (pip install -e .)")
    return [found]


def _run_step(
    topology: Path, stage: str, out: Path, env: dict[str, str], seed: int, extra: Sequence[str]
) -> tuple[bool, str, str, str]:
    """One `harness run --only <stage>`: (passed, check, detail, error)."""
    argv = [*_harness(), "run", "-t", str(topology), "--only", stage, "--out", str(out)]
    argv += ["--seed", str(seed), *extra]
    out.parent.mkdir(parents=True, exist_ok=True)
    with (out.parent / f"{out.name}.log").open("w") as log:
        proc = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    summary_path = out / "summary.json"
    if not summary_path.exists():
        return False, "", "", f"harness run exited {proc.returncode} with no summary"
    summary = json.loads(summary_path.read_text())
    for stage_result in summary.get("stages", []):
        if stage_result.get("passed"):
            continue
        failed = [c for c in stage_result.get("checks", []) if not c.get("passed")]
        if failed:
            first = failed[0]
            detail = " ".join(str(first.get("detail", "")).split())[:300]
            return False, str(first.get("name", "")), detail, ""
        return False, "", "", str(stage_result.get("error") or stage_result.get("headline"))
    return proc.returncode == 0, "", "", "" if proc.returncode == 0 else f"exit {proc.returncode}"


def judge(
    mutant: Mutant,
    stages: Sequence[str],
    out: Path,
    seed: int,
    experiments: Sequence[str] = ("*.yaml",),
) -> Verdict:
    """Run the pipeline on a mutated copy, stopping at the first failing check."""
    started = time.monotonic()
    verdict = Verdict(mutant.name, mutant.what, "survived", expected=mutant.expected)
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        topology = build_tree(mutant, Path(tmp))
        env = env_for(Path(tmp))
        for stage in stages:
            steps: list[tuple[str, list[str]]] = [(stage, [])]
            if stage == "chaos":
                files = sorted({p for g in experiments for p in (ROOT / "chaos").glob(g)})
                # Relative to chaos/, so that detection/14_*.yaml is found in the copy too.
                rel = [p.relative_to(ROOT / "chaos").as_posix() for p in files]
                steps = [(f"chaos/{r}", ["--chaos", str(Path(tmp) / "chaos" / r)]) for r in rel]
            for label, extra in steps:
                step_out = out / mutant.name / label.replace("/", "-").replace(".yaml", "")
                _say(f"  {mutant.name}: {label} ...")
                passed, check, detail, error = _run_step(
                    topology, stage, step_out, env, seed, extra
                )
                verdict.steps.append(f"{label}: {'pass' if passed else 'FAIL'}")
                if passed:
                    continue
                verdict.stage = label
                if error and not check:
                    verdict.status, verdict.detail = "error", error
                else:
                    verdict.status, verdict.check, verdict.detail = "killed", check, detail
                verdict.duration_s = round(time.monotonic() - started, 1)
                return verdict
    verdict.duration_s = round(time.monotonic() - started, 1)
    return verdict


def render_markdown(verdicts: Sequence[Verdict], stages: Sequence[str], seed: int) -> str:
    judged = [v for v in verdicts if v.mutant != BASELINE.name]
    killed = sum(v.status == "killed" for v in judged)
    lines = [
        "# Mutants: resilience regressions and the stage that caught them",
        "",
        f"Stages: {', '.join(stages)}; seed {seed}; generated by `python scripts/mutants.py` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| mutant | what it breaks | verdict | stage | check | time |",
        "|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        check = f"{v.check}: {v.detail}" if v.check and v.detail else v.check or v.detail
        check = check.replace("|", "/")[:200]
        lines.append(
            f"| `{v.mutant}` | {v.what} | {v.status} | {v.stage or '-'} | {check or '-'} "
            f"| {v.duration_s:.0f} s |"
        )
    rate = f"{killed}/{len(judged)}" if judged else "0/0"
    lines += [
        "",
        f"Kill rate: {rate}" + (f" ({100 * killed / len(judged):.0f} %)" if judged else ""),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Apply each resilience mutant to a copy of the shop and run the pipeline "
        "on it, stopping at the first failing check; print killed/survived and the kill rate.",
    )
    parser.add_argument("--only", help="comma-separated mutant names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--stages",
        default=",".join(DEFAULT_STAGES),
        help=f"comma-separated pipeline stages, in order (default {','.join(DEFAULT_STAGES)})",
    )
    parser.add_argument(
        "--experiments",
        default="*.yaml",
        help="comma-separated globs of chaos/ experiments the chaos stage runs (default "
        "*.yaml: the shop's pipeline; add detection/*.yaml for the ones kept out of it)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for every stage (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "mutants")
    parser.add_argument(
        "--baseline", action="store_true", help="also run the unmutated copy (must survive)"
    )
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            _say(f"{m.name:36} {m.what}")
        return 0
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        _say(f"unknown mutant(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
        return 2
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        _say(f"unknown stage(s): {', '.join(bad) or '(none given)'}; known: {', '.join(STAGES)}")
        return 2
    chosen = [BY_NAME[n] for n in names] if names else list(MUTANTS)
    if args.baseline:
        chosen = [BASELINE, *chosen]
    for mutant in chosen:  # fail before any run if a mutant no longer fits the code
        with tempfile.TemporaryDirectory() as tmp:
            try:
                build_tree(mutant, Path(tmp))
            except MutantError as exc:
                _say(str(exc))
                return 2
    args.out.mkdir(parents=True, exist_ok=True)
    verdicts: list[Verdict] = []
    for mutant in chosen:
        _say(f"mutant {mutant.name}: {mutant.what}")
        globs = [g.strip() for g in args.experiments.split(",") if g.strip()]
        verdict = judge(mutant, stages, args.out, args.seed, globs)
        verdicts.append(verdict)
        where = f" at {verdict.stage}: {verdict.check or verdict.detail}" if verdict.stage else ""
        _say(f"  -> {verdict.status.upper()}{where} ({verdict.duration_s:.0f} s)")
        # Written after every mutant, so an interrupted run still leaves its verdicts.
        (args.out / "summary.json").write_text(
            json.dumps([asdict(v) for v in verdicts], indent=2) + "\n"
        )
        markdown = render_markdown(verdicts, stages, args.seed)
        (args.out / "summary.md").write_text(markdown)
    _say()
    _say(markdown)
    judged = [v for v in verdicts if v.mutant != BASELINE.name]
    baseline_ok = all(v.status == "survived" for v in verdicts if v.mutant == BASELINE.name)
    return 0 if baseline_ok and all(v.status == "killed" for v in judged) else 1


if __name__ == "__main__":
    sys.exit(main())
