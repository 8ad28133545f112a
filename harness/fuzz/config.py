"""The schemathesis configuration of one fuzzing pass.

A user's `schemathesis.toml` (the documented schemathesis format: per-API `[[project]]`
sections matched by the document's title, auth, per-check settings) is the base; the
harness then decides, with the highest priority (schemathesis' "override" project, the
one its own CLI flags use): the seed, the example budget, the phases, the base URL, and
which of its checks are on. A `schemathesis.toml` in the working directory is never read
implicitly: the pytest side of schemathesis would pick it up too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from schemathesis.config import ChecksConfig, ConfigError, SchemathesisConfig

from harness.fuzz import checks as harness_checks
from harness.fuzz.defaults import ALL_PHASES

__all__ = [
    "ALL_PHASES",
    "FuzzConfigError",
    "PassSettings",
    "build_config",
    "check_names",
    "fault_checks",
    "service_checks",
    "standard_checks",
]

# Reproduction commands must carry the exact request (idempotency keys, card tokens); only
# credentials stay hidden in reports.
_SANITIZATION = {
    "keys-to-sanitize": ["authorization", "proxy-authorization", "cookie", "set-cookie"],
    "sensitive-markers": ["password", "passwd", "secret", "credential"],
}


class FuzzConfigError(ValueError):
    """A schemathesis configuration file cannot be used; the message names it."""


def standard_checks(*, idempotency_header: str, error_fields: Sequence[str] = ()) -> dict[str, Any]:
    """The `[checks]` table of an ordinary pass: every built-in check plus the harness's;
    `error_body_shape` only when `error_fields` (the service's `error_body`) are declared."""
    checks: dict[str, Any] = {"keyed_replay": {"active": True, "header": idempotency_header}}
    if error_fields:
        checks["error_body_shape"] = {"active": True, "fields": list(error_fields)}
    return checks


def check_names() -> list[str]:
    """Every check a `fuzz_checks` convention may switch: schemathesis' and the harness's."""
    # The OpenAPI checks register themselves when their module is first imported.
    import schemathesis.specs.openapi.checks  # noqa: F401
    from schemathesis.checks import CHECKS

    return sorted(set(CHECKS.get_all_names()) | set(harness_checks.HARNESS_CHECKS))


def service_checks(checks: Mapping[str, Any], switches: Mapping[str, bool]) -> dict[str, Any]:
    """`checks` with a service's `fuzz_checks` switches applied (`{"ignored_auth": False}`).

    Raises `FuzzConfigError` for a name no check has, or for `error_body_shape` switched on
    where `checks` has no error-body keys to check.
    """
    known = check_names()
    table = {name: dict(value) for name, value in checks.items()}
    for name, on in switches.items():
        if name not in known:
            raise FuzzConfigError(f"unknown check {name!r}; checks are: {', '.join(known)}")
        if name == "error_body_shape" and on and "error_body_shape" not in table:
            raise FuzzConfigError(
                "error_body_shape is switched on but no error_body keys are declared"
            )
        entry = table.setdefault(name, {})
        entry["enabled"] = on
        if name in harness_checks.HARNESS_CHECKS:
            entry["active"] = on and entry.get("active", False)
    return table


def fault_checks(
    *,
    edge: str,
    idempotency_header: str,
    outage_statuses: Sequence[int],
    error_fields: Sequence[str] = (),
) -> dict[str, Any]:
    """The `[checks]` table of a pass run while `edge` is partitioned.

    `not_a_server_error` lets the outage statuses through, so that `dependency_outage_answer`
    is the one that judges 5xx answers (with a message naming the edge).
    """
    allowed = ["2xx", "3xx", "4xx", *(str(status) for status in outage_statuses)]
    return {
        **standard_checks(idempotency_header=idempotency_header, error_fields=error_fields),
        "not_a_server_error": {"expected-statuses": allowed},
        "dependency_outage_answer": {
            "active": True,
            "edge": edge,
            "statuses": list(outage_statuses),
        },
    }


class PassSettings:
    """What the harness decides for one pass (keyword-only).

    `seed`, `max_examples` (fuzzing and stateful budget per operation), `phases` (a subset
    of ALL_PHASES), `checks` (a `[checks]` table, see `standard_checks`), `base_url`
    (None: the document's own URL or the in-process app), `max_steps` (stateful sequence
    length, None: schemathesis' default).
    """

    def __init__(
        self,
        *,
        seed: int,
        max_examples: int,
        phases: Sequence[str],
        checks: Mapping[str, Any],
        base_url: str | None = None,
        max_steps: int | None = None,
    ) -> None:
        unknown = [phase for phase in phases if phase not in ALL_PHASES]
        if unknown:
            raise FuzzConfigError(
                f"unknown phase(s) {', '.join(unknown)}; expected some of {', '.join(ALL_PHASES)}"
            )
        if max_examples < 1:
            raise FuzzConfigError(f"max_examples must be at least 1, got {max_examples}")
        self.seed = seed
        self.max_examples = max_examples
        self.phases = tuple(phases)
        self.checks = dict(checks)
        self.base_url = base_url
        self.max_steps = max_steps


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The TOML table of a schemathesis config file ({} for None)."""
    if path is None:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FuzzConfigError(f"{path}: cannot read the schemathesis config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FuzzConfigError(f"{path}: not valid TOML: {exc}") from None


def build_config(settings: PassSettings, *, base_file: Path | None = None) -> SchemathesisConfig:
    """The configuration for one pass: `base_file` (if any) under the harness's decisions."""
    data = read_config_file(base_file)
    data = {
        **data,
        "seed": settings.seed,
        "cache": {"enabled": False},  # nothing learnt by a previous run changes this one
        "output": {**data.get("output", {}), "sanitization": _SANITIZATION},
    }
    base_dir = str(Path(base_file).resolve().parent) if base_file is not None else None
    try:
        config = SchemathesisConfig.from_dict(data, base_dir=base_dir)
    except ConfigError as exc:
        source = base_file or "the harness's settings"
        raise FuzzConfigError(f"{source}: invalid schemathesis configuration: {exc}") from None
    _decide(config, settings)
    return config


def _decide(config: SchemathesisConfig, settings: PassSettings) -> None:
    # Importing `harness_checks` registered the checks; a [checks.<name>] table naming an
    # unregistered check would be a configuration error.
    assert harness_checks.HARNESS_CHECKS
    override = config.projects.override
    if settings.base_url is not None:
        override.update(base_url=settings.base_url)
    # database "none": no example database, so a run depends on its seed only.
    override.generation.update(max_examples=settings.max_examples, database="none")
    override.phases.update(phases=list(settings.phases))
    if settings.max_steps is not None:
        override.phases.stateful.max_steps = settings.max_steps
    override.checks = ChecksConfig.from_dict(settings.checks)
