"""The topology file (`system.toml`): which services make up a system and which calls which.

A topology is parsed once, at the edge, into frozen pydantic models; everything downstream
(runtime backends, CLI, pytest plugin, chaos) receives a `Topology`, never a dict. Any
problem in the file becomes one `TopologyError` whose message names the file, the key and
what was expected, before anything is started.

Format (every key: docs/topology.md)::

    edges = ["orders -> payments"]          # or { from = "a", to = "b", env = "B_ADDR" }

    [system]
    name = "store"
    startup_timeout = 30.0                  # seconds for every service to answer its health path
    env = { LOG_LEVEL = "INFO" }            # for every service (a service's own env wins)
    preload = ["sqlalchemy", "fastapi"]     # imported once, shared by forking (start-up speed)

    [services.payments]
    app = "billing.app:app"                 # or command = ["{python}", "-m", "x", "{port}"]
    kind = "wsgi"                           # "asgi" (uvicorn, default) or "wsgi" (gunicorn)
    port = 0                                # 0: a free port is picked at start
    conventions = { health = "/health" }    # over [conventions]: see conventions.py
    env = { DATABASE_URL = "sqlite:///{run_dir}/{name}.db" }
    cwd = "."                               # relative to this file (the default)
    workers = 1                             # gunicorn only, like threads = 8
    url = "http://127.0.0.1:8103"           # where it already runs (attach backend)

    [fuzz]                                  # optional: how `harness fuzz` / `harness run` fuzz it
    prepare = "fixtures:seed_data"          # test data: "module:function" or "file.py:function"
    settle = 1.5                            # at most, after each partition pass
    env = { BREAKER_OPEN_SECONDS = "1" }    # extra service env while fuzzing

Placeholders in `env`, `command` and `cwd`: `{run_dir}`, `{port}`, `{host}`, `{name}`,
`{python}`, `{topology_dir}`. Every service also gets `HOST` and `PORT`. Each edge hands the
caller the address of its own fault proxy through an environment variable, `<TARGET>_URL`
unless the edge says `env = "..."`; `proxy` names an existing proxy on a Toxiproxy server
the user runs (attach backend).
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.references import split_reference
from harness.topology.conventions import Conventions, ResolvedConventions
from harness.topology.edge import Edge
from harness.topology.lookup import DEFAULT_TOPOLOGY_FILE, TOPOLOGY_ENV
from harness.topology.validation import describe_validation_error

__all__ = [
    "DEFAULT_TOPOLOGY_FILE",
    "PLACEHOLDERS",
    "TOPOLOGY_ENV",
    "EdgeSpec",
    "EnvValue",
    "ExploreSettings",
    "FuzzSettings",
    "PipelineSettings",
    "ServiceSpec",
    "SystemSettings",
    "Topology",
    "TopologyError",
    "env_text",
    "find_topology",
    "load_topology",
    "normalize_edge_name",
    "parse_topology",
    "render_template",
]

# Placeholders allowed in `env` values, `command` items and `cwd`; filled in per service at start.
PLACEHOLDERS = frozenset({"run_dir", "port", "host", "name", "python", "topology_dir"})

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_APP_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_EDGE_ARROW = re.compile(r"^\s*([^\s>-][^\s>]*?)\s*->\s*([^\s>]+)\s*$")

EnvValue = str | int | float | bool


class TopologyError(ValueError):
    """A topology file or mapping is malformed; the message says where and what was expected."""


def _placeholders_in(template: str) -> set[str]:
    names: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(field)
    return names


def _check_template(template: str) -> str:
    try:
        unknown = _placeholders_in(template) - PLACEHOLDERS
    except ValueError as exc:  # unbalanced braces
        raise ValueError(f"bad placeholder syntax in {template!r}: {exc}") from None
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        bad = ", ".join("{" + p + "}" for p in sorted(unknown))
        raise ValueError(f"unknown placeholder {bad} in {template!r}; allowed: {allowed}")
    return template


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill `{run_dir}`-style placeholders (checked at load time, so every name is known)."""
    return template.format_map(dict(values))


def env_text(value: EnvValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SystemSettings(_Model):
    """The `[system]` table: settings for the whole system."""

    name: str = "system"
    startup_timeout: float = Field(
        30.0, gt=0, description="seconds for every service to be healthy"
    )
    env: Env = Field(default_factory=dict, description="env shared by every service")

    # Modules imported once and shared by every Python service through fork (start-up speed);
    # they must not read per-service settings or start threads when imported.
    preload: tuple[str, ...] = Field(default=(), strict=False)

    @field_validator("preload")
    @classmethod
    def _preload_ok(cls, preload: tuple[str, ...]) -> tuple[str, ...]:
        for module in preload:
            if not _MODULE.match(module):
                raise ValueError(f"expected a module name such as 'sqlalchemy.orm', got {module!r}")
        return preload

    def rendered_env(self, values: Mapping[str, str]) -> dict[str, str]:
        """`env` with placeholders filled in and every value as text."""
        return render_env(self.env, values)


def render_env(env: Mapping[str, EnvValue], values: Mapping[str, str]) -> dict[str, str]:
    return {key: render_template(env_text(value), values) for key, value in env.items()}


def _validate_env(env: dict[str, EnvValue]) -> dict[str, EnvValue]:
    for key, value in env.items():
        if not _ENV_VAR.match(key):
            raise ValueError(f"env key {key!r} is not a valid environment variable name")
        if isinstance(value, str):
            _check_template(value)
    return env


# Environment variables as a file gives them: names checked, placeholders known.
Env = Annotated[dict[str, EnvValue], AfterValidator(_validate_env)]


class FuzzSettings(_Model):
    """The `[fuzz]` table: how `harness fuzz` and `harness run` fuzz this system.

    Command-line options and explicit `FuzzOptions` win over these. A `schemathesis.toml`
    beside the topology file holds the per-API schemathesis settings (auth, expected statuses).
    """

    # Puts test data in place once the system is up: "module:function", or "file.py:function"
    # relative to the topology file; called with the RunningSystem.
    prepare: str | None = None
    # Seconds to wait after healing a partition, so breakers close before the next pass.
    settle: float = Field(default=0.0, ge=0, strict=False)
    # Extra service env while fuzzing (e.g. a short BREAKER_OPEN_SECONDS, to settle fast).
    env: Env = Field(default_factory=dict)
    # Services fuzzed at once, each worker on a system of its own (a pass uses one core).
    parallel: int = Field(default=1, ge=1, strict=False)

    @field_validator("prepare")
    @classmethod
    def _prepare_ok(cls, prepare: str | None) -> str | None:
        if prepare is not None:
            split_reference(prepare)  # ValueError naming the expected shapes
        return prepare


class PipelineSettings(_Model):
    """The `[pipeline]` table: what `harness run -t system.toml` runs. Paths are relative to
    the topology file; a stage whose input is not declared (and not found at its default
    place) is SKIPPED with the reason."""

    stages: tuple[str, ...] | None = Field(default=None, strict=False)
    pacts: str | None = None  # folder of pact files (default: pacts/ beside the topology)
    experiments: str | None = None  # folder or file(s) of chaos experiments (default: chaos/)
    load_profile: str | None = None  # a load profile (default: load/smoke.yaml, if present)
    seed: int | None = None
    # experiments at once, each on its own system (`harness run`, `harness chaos run`)
    chaos_parallel: int = Field(default=1, ge=1, le=64)
    # stages `harness run` runs at the same time (each starts its own system), e.g. a chaos
    # stage that mostly waits beside a fuzz stage that mostly computes; empty: one by one
    concurrent: tuple[str, ...] = Field(default=(), strict=False)

    def path(self, value: str | None, base_dir: Path) -> Path | None:
        return None if value is None else (base_dir / value).resolve()


Ratio = Annotated[float, Field(ge=0, le=1, strict=False)]


class ExploreSettings(_Model):
    """The `[explore]` table: what `harness explore` needs to judge every edge x fault class.

    Paths (`traffic` as `file.py:Class` or a YAML file, `invariants` as `file.py:function`)
    are relative to the topology file; `module:Class` / `module:function` are imported.
    """

    # The traffic: `file.py:Class` / `module:Class` (a traffic class), or a YAML file holding
    # what a chaos experiment's `method.traffic` takes. None: explore cannot run.
    traffic: str | None = None
    rate: float = Field(default=5.0, gt=0, le=500, strict=False)  # requests per second
    concurrency: int = Field(default=4, ge=1, le=64)
    entry: str | None = None  # the service the traffic enters by
    graceful: tuple[int, ...] = Field(default=(), strict=False)  # 5xx the entry may answer
    max_error_ratio: float = Field(default=1.0, ge=0, le=1, strict=False)  # during the fault
    recovery: float = Field(default=10.0, gt=0, strict=False)  # s after the heal: all ok again
    max_amplification: float = Field(default=3.0, gt=0, strict=False)  # provider/caller requests
    invariants: tuple[str, ...] = Field(default=(), strict=False)  # file.py:function checkers
    header: str | None = None  # groups the proxy's request counts (one value per request)
    latency: int = Field(default=5000, gt=0)  # ms: above every caller's timeout
    fault_seconds: float = Field(default=4.0, gt=0, strict=False)  # how long each fault lasts
    faults: tuple[str, ...] = Field(default=(), strict=False)  # fault classes (empty: all)
    env: Env = Field(default_factory=dict)  # service settings while exploring
    parallel: int = Field(default=1, ge=1, le=64)  # cells at once (`--parallel` overrides)
    # Tighter error-ratio bounds for some fault classes (`{transient_503 = 0}`) or edges
    # (`{"a -> b" = 0}`): a cell's bound is the lowest that applies to each of its faults.
    max_error_ratio_by_fault: dict[str, Ratio] = Field(default_factory=dict)
    max_error_ratio_by_edge: dict[str, Ratio] = Field(default_factory=dict)
    # Edges whose caller makes several calls per request of its own (fan-out) need a higher
    # bound on the average than `max_amplification`, which stays the bound per call.
    max_amplification_by_edge: dict[str, Annotated[float, Field(gt=0, strict=False)]] = Field(
        default_factory=dict
    )

    @field_validator("graceful")
    @classmethod
    def _graceful_ok(cls, graceful: tuple[int, ...]) -> tuple[int, ...]:
        wrong = [status for status in graceful if not 500 <= status <= 599]
        if wrong:
            raise ValueError(f"expected 5xx statuses, got {', '.join(map(str, wrong))}")
        return graceful

    @field_validator("max_error_ratio_by_edge", "max_amplification_by_edge")
    @classmethod
    def _edges_named(cls, bounds: dict[str, float]) -> dict[str, float]:
        return {normalize_edge_name(edge): bound for edge, bound in bounds.items()}

    @field_validator("invariants")
    @classmethod
    def _invariants_ok(cls, invariants: tuple[str, ...]) -> tuple[str, ...]:
        for reference in invariants:
            split_reference(reference)
        return invariants

    @field_validator("traffic")
    @classmethod
    def _traffic_ok(cls, traffic: str | None) -> str | None:
        if traffic is not None and not traffic.endswith((".yaml", ".yml")):
            split_reference(traffic)  # file.py:Class or module:Class
        return traffic


class ServiceSpec(_Model):
    """One `[services.NAME]` table: how to start (or where to find) one service."""

    name: str
    app: str | None = None  # ASGI/WSGI app path, "package.module:attribute"
    kind: Literal["asgi", "wsgi"] = "asgi"  # uvicorn or gunicorn
    command: tuple[str, ...] | None = Field(default=None, strict=False)  # argv, placeholders ok
    url: str | None = None  # base URL of an already running instance (attach, or not started)
    port: int = Field(default=0, ge=0, le=65535)  # 0 picks a free port
    # Its own conventions; after parsing they also hold what the system's `[conventions]` sets.
    conventions: Conventions = Field(default_factory=lambda: Conventions.model_validate({}))
    env: Env = Field(default_factory=dict)
    cwd: str | None = None  # working directory, relative to the topology file
    workers: int = Field(default=1, ge=1)  # gunicorn workers (wsgi)
    threads: int = Field(default=8, ge=1)  # gunicorn threads per worker (wsgi)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"service name {name!r} must start with a lowercase letter and use only "
                "a-z, 0-9, '_' and '-'"
            )
        return name

    @field_validator("app")
    @classmethod
    def _app_ok(cls, app: str | None) -> str | None:
        if app is not None and not _APP_PATH.match(app):
            raise ValueError(f"expected 'package.module:attribute', got {app!r}")
        return app

    @field_validator("command")
    @classmethod
    def _command_ok(cls, command: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if command is not None:
            if not command:
                raise ValueError("expected a non-empty list of strings")
            for part in command:
                _check_template(part)
        return command

    @field_validator("url")
    @classmethod
    def _url_ok(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
            raise ValueError(
                f"expected an http(s) URL such as 'http://127.0.0.1:8100', got {url!r}"
            )
        return url.rstrip("/") if url else url

    @field_validator("cwd")
    @classmethod
    def _cwd_ok(cls, cwd: str | None) -> str | None:
        return None if cwd is None else _check_template(cwd)

    @model_validator(mode="after")
    def _one_way_to_start(self) -> ServiceSpec:
        if self.app is not None and self.command is not None:
            raise ValueError("give either 'app' or 'command', not both")
        if self.app is None and self.command is None and self.url is None:
            raise ValueError("give 'app' (with 'kind'), 'command', or 'url' (already running)")
        return self

    @property
    def resolved(self) -> ResolvedConventions:
        """The conventions in force for this service (its own, the system's, the defaults)."""
        return ResolvedConventions.of(self.conventions)

    @property
    def health(self) -> str:
        """The health path; "" means: healthy once it answers any HTTP request at `/`."""
        return self.resolved.health

    @property
    def startable(self) -> bool:
        """True when the process backend can start it (it has an app or a command)."""
        return self.app is not None or self.command is not None

    def rendered_env(self, values: Mapping[str, str]) -> dict[str, str]:
        """`env` with placeholders filled in and every value as text."""
        return render_env(self.env, values)


def default_env_var(target: str) -> str:
    """`payments` -> `PAYMENTS_URL`: the variable a caller reads its dependency's URL from."""
    return re.sub(r"[^A-Za-z0-9]", "_", target).upper() + "_URL"


class EdgeSpec(_Model):
    """`source -> target`: the source calls the target, through a fault proxy of its own."""

    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    env: str | None = None  # the source's variable for the target's URL; default <TARGET>_URL
    proxy: str | None = None  # name of an existing proxy on a user-supplied Toxiproxy (attach)

    @model_validator(mode="before")
    @classmethod
    def _from_arrow(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = _EDGE_ARROW.match(data)
            if match is None:
                raise ValueError(f"expected 'source -> target', got {data!r}")
            data = {"from": match.group(1), "to": match.group(2)}
        return data

    @field_validator("env")
    @classmethod
    def _env_ok(cls, env: str | None) -> str | None:
        if env is not None and not _ENV_VAR.match(env):
            raise ValueError(f"{env!r} is not a valid environment variable name")
        return env

    @property
    def edge(self) -> Edge:
        """The typed edge (`Edge(source, target)`)."""
        return Edge(self.source, self.target)

    @property
    def env_var(self) -> str:
        """The source's variable that receives the target's (proxied) URL."""
        return self.env or default_env_var(self.target)

    @property
    def name(self) -> str:
        """The edge's name, also its proxy's name on the fault proxy: `orders->payments`."""
        return f"{self.source}->{self.target}"


class Topology(_Model):
    """A whole system: `services` by name and the `edges` between them."""

    system: SystemSettings = Field(default_factory=lambda: SystemSettings.model_validate({}))
    services: dict[str, ServiceSpec]
    edges: tuple[EdgeSpec, ...] = Field(default=(), strict=False)
    fuzz: FuzzSettings = Field(default_factory=lambda: FuzzSettings.model_validate({}))
    conventions: Conventions = Field(default_factory=lambda: Conventions.model_validate({}))
    pipeline: PipelineSettings = Field(default_factory=lambda: PipelineSettings.model_validate({}))
    explore: ExploreSettings = Field(default_factory=lambda: ExploreSettings.model_validate({}))

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _name_services(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("services"), Mapping):
            services = {}
            for key, table in data["services"].items():
                if isinstance(table, Mapping):
                    if "name" in table and table["name"] != key:
                        raise ValueError(
                            f"services.{key}.name: the table key is the service's name; "
                            f"remove 'name' or make it {key!r}"
                        )
                    table = {**table, "name": key}
                services[key] = table
            data = {**data, "services": services}
        return data

    @field_validator("services")
    @classmethod
    def _not_empty(cls, services: dict[str, ServiceSpec]) -> dict[str, ServiceSpec]:
        if not services:
            raise ValueError("expected at least one service")
        return services

    @model_validator(mode="after")
    def _inherit_conventions(self) -> Topology:
        """Each service's conventions fill their unset keys from the system's `[conventions]`."""
        services = {
            name: spec.model_copy(update={"conventions": spec.conventions.over(self.conventions)})
            for name, spec in self.services.items()
        }
        object.__setattr__(self, "services", services)
        return self

    def conventions_for(self, service: str) -> ResolvedConventions:
        """The conventions in force for `service`."""
        return self.services[service].resolved

    @model_validator(mode="after")
    def _cross_checks(self) -> Topology:
        known = ", ".join(sorted(self.services))
        seen: set[str] = set()
        env_owner: dict[tuple[str, str], str] = {}
        for index, edge in enumerate(self.edges):
            for role, name in (("from", edge.source), ("to", edge.target)):
                if name not in self.services:
                    raise ValueError(
                        f"edges[{index}].{role}: unknown service {name!r} in edge "
                        f"'{edge.source} -> {edge.target}'; services are: {known}"
                    )
            if edge.source == edge.target:
                raise ValueError(f"edges[{index}]: a service cannot be its own dependency")
            if edge.name in seen:
                raise ValueError(f"edges[{index}]: duplicate edge '{edge.source} -> {edge.target}'")
            seen.add(edge.name)
            other = env_owner.get((edge.source, edge.env_var))
            if other is not None:
                raise ValueError(
                    f"edges[{index}]: edges '{other}' and '{edge.source} -> {edge.target}' both "
                    f"hand {edge.source} its URL in {edge.env_var}; give one of them "
                    '`env = "..."`'
                )
            env_owner[(edge.source, edge.env_var)] = f"{edge.source} -> {edge.target}"
            if edge.env_var in self.services[edge.source].env:
                raise ValueError(
                    f"services.{edge.source}.env.{edge.env_var}: set by edge "
                    f"'{edge.source} -> {edge.target}'; remove it from env"
                )
        self._check_fixed_ports()
        return self

    def _check_fixed_ports(self) -> None:
        owners: dict[int, str] = {}
        for service in self.services.values():
            if service.port and service.startable:
                if service.port in owners:
                    raise ValueError(
                        f"services.{service.name}.port: port {service.port} is also used by "
                        f"service {owners[service.port]!r}"
                    )
                owners[service.port] = service.name

    @property
    def path(self) -> Path | None:
        """The file this topology was loaded from, if any."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Where relative `cwd` values start: the topology file's directory (else the cwd)."""
        return self._path.parent if self._path is not None else Path.cwd()

    def dependencies(self, service: str) -> list[EdgeSpec]:
        """Edges whose source is `service`."""
        return [edge for edge in self.edges if edge.source == service]

    def edge(self, name: str) -> EdgeSpec:
        """The edge named `orders->payments` (spaces around the arrow are ignored)."""
        wanted = normalize_edge_name(name)
        for edge in self.edges:
            if edge.name == wanted:
                return edge
        raise KeyError(f"unknown edge {name!r}; edges are: {', '.join(e.name for e in self.edges)}")

    def with_env(self, env: Mapping[str, EnvValue]) -> Topology:
        """A copy whose shared `[system] env` also sets `env` (its values win).

        Every service gets `env`, except where a service's own `env` sets the same variable
        (a service's env wins over the shared one). An empty `env` returns this topology.
        """
        if not env:
            return self
        system = self.system.model_copy(update={"env": {**self.system.env, **env}})
        return self.model_copy(update={"system": system})

    def with_service_env(self, service_env: Mapping[str, Mapping[str, EnvValue]]) -> Topology:
        """A copy in which each named service's own `env` also sets the given variables.

        `service_env` maps a service name to the variables to add (they win over the
        service's own and the shared env). Raises `TopologyError` naming an unknown service.
        """
        services = dict(self.services)
        for name, env in service_env.items():
            if name not in services:
                known = ", ".join(sorted(services))
                raise TopologyError(
                    f"service_env.{name}: no service {name!r} in the topology; "
                    f"expected one of {known}"
                )
            spec = services[name]
            services[name] = spec.model_copy(update={"env": {**spec.env, **env}})
        return self.model_copy(update={"services": services})


def normalize_edge_name(name: str) -> str:
    """`'orders -> payments'` and `'orders->payments'` name the same edge."""
    return re.sub(r"\s*->\s*", "->", name.strip())


# ---------------------------------------------------------------------------------- parsing


def parse_topology(data: Mapping[str, Any], *, source: str | Path = "<topology>") -> Topology:
    """Validate a mapping (a parsed TOML document) into a `Topology`.

    Raises `TopologyError` naming `source`, the key and what was expected.
    """
    try:
        topology = Topology.model_validate(dict(data))
    except ValidationError as exc:
        raise TopologyError(_describe(exc, source)) from None
    except ValueError as exc:  # raised by a before-validator outside pydantic's error wrapping
        raise TopologyError(f"{source}: {exc}") from None
    if isinstance(source, Path):
        topology._path = source.resolve()
    return topology


def load_topology(path: Path) -> Topology:
    """Read and validate a `system.toml`; raises `TopologyError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(f"{path}: cannot read the topology file: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(f"{path}: not valid TOML: {exc}") from None
    return parse_topology(data, source=path)


_KEYS_BY_DEPTH: dict[str, type[BaseModel]] = {
    "": Topology,
    "system": SystemSettings,
    "services.*": ServiceSpec,
    "conventions": Conventions,
    "services.*.conventions": Conventions,
    "pipeline": PipelineSettings,
    "edges.*": EdgeSpec,
}


def _describe(exc: ValidationError, source: str | Path) -> str:
    # cross-checks on the whole file name their own key inside the message
    return describe_validation_error(
        exc,
        source=str(source),
        indexes="bracket",
        header=f"invalid topology ({exc.error_count()} problem(s))",
        explain=_explain,
    )


def _explain(error: Mapping[str, Any]) -> str | None:
    """What the topology knows better than pydantic (allowed keys, ports); else None."""
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key {loc[-1]!r}; expected one of: {allowed}"
    if kind == "missing":
        return "required key is missing"
    if loc and loc[-1] == "port":
        return (
            f"expected a port number from 0 to 65535 (0 picks a free port), got {error['input']!r}"
        )
    return None


def _allowed_keys(loc: Sequence[int | str]) -> str:
    # services.<name>... and edges[<i>]... : the second part is a name or an index
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("services", "edges"):
        parts[1] = "*"
    pattern = ".".join(parts)
    model = _KEYS_BY_DEPTH.get(pattern)
    if model is None:
        return "(see the topology format)"
    names = [
        (field.alias or name)
        for name, field in model.model_fields.items()
        if not (model is ServiceSpec and name == "name")  # the table key is the name
    ]
    return ", ".join(sorted(names))


# ---------------------------------------------------------------------------------- lookup


def find_topology(option: Path | str | None = None) -> Path:
    """The topology a command works on: `-t/--topology`, else `$HARNESS_TOPOLOGY`, else
    `./system.toml`; raises `TopologyError` saying what was looked for."""

    if option:
        return Path(option)
    from_env = os.environ.get(TOPOLOGY_ENV)
    if from_env:
        return Path(from_env)
    here = Path(DEFAULT_TOPOLOGY_FILE)
    if here.is_file():
        return here
    raise TopologyError(
        f"no topology: pass -t/--topology PATH, set ${TOPOLOGY_ENV}, or run where "
        f"./{DEFAULT_TOPOLOGY_FILE} exists"
    )
