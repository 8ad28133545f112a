"""Turn a Chaos Toolkit experiment into the harness's experiment format.

Supported, from a Chaos Toolkit experiment (JSON or YAML):

- **chaostoolkit-toxiproxy actions** in the method: `create_toxic` and its shortcuts
  (`create_latency_toxic`, `create_bandwith_degradation_toxic`,
  `create_slow_connection_close_toxic`, `create_timeout_toxic`, `create_slicer_toxic`,
  `create_limiter_toxic`), `delete_toxic`, `disable_proxy` / `enable_proxy` (a partition),
  and `reset` (removes every fault). Chaos Toolkit runs its method one activity after another;
  the import replays that timeline (each activity's `pauses.before` / `pauses.after`) into
  timed faults: a toxic lasts from its creation to its deletion, a partition from the
  disable to the enable, and what the method never removes lasts until rollback.
- **HTTP probes in the steady-state hypothesis**, with a status tolerance (a number, a list
  of numbers, or a `range` on the status). The probe's URL must start with a configuration
  placeholder named after the service, `${<service>_url}` (the base URL of that service,
  e.g. from `harness up --json`), so the import knows which service it asks.
- **Rollbacks** made of the toxiproxy actions that undo faults (`delete_toxic`,
  `enable_proxy`, `reset`): the harness's rollback always undoes every fault anyway.

A proxy name is mapped to an edge as the harness names its proxies (`source->target`), or,
with a topology, through each edge's own `proxy` name. Anything else (other providers or
actions, `background` activities, tolerances that are not statuses) is an error that names
each unsupported activity; HTTP probes inside the method are skipped with a warning, since
Chaos Toolkit records their answers without judging them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.chaos.loader import check_against_topology, parse_experiment
from harness.chaos.model import Experiment
from harness.topology import Edge, Topology

__all__ = ["CtkImportError", "ImportedExperiment", "import_ctk", "import_ctk_file"]

TOXIC_ACTIONS = "chaostoxi.toxic.actions"
PROXY_ACTIONS = "chaostoxi.proxy.actions"

# Shortcut actions: the toxic type each creates and its argument -> attribute names.
_TOXIC_SHORTCUTS: dict[str, tuple[str, dict[str, str]]] = {
    "create_latency_toxic": ("latency", {"latency": "latency", "jitter": "jitter"}),
    "create_bandwith_degradation_toxic": ("bandwidth", {"rate": "rate"}),
    "create_slow_connection_close_toxic": ("slow_close", {"delay": "delay"}),
    "create_timeout_toxic": ("timeout", {"timeout": "timeout"}),
    "create_slicer_toxic": (
        "slicer",
        {"average_size": "average_size", "size_variation": "size_variation", "delay": "delay"},
    ),
    "create_limiter_toxic": ("limit_data", {"bytes_limit": "bytes"}),
}
_UNDOING = {(TOXIC_ACTIONS, "delete_toxic"), (PROXY_ACTIONS, "enable_proxy")}
_UNDOING |= {(PROXY_ACTIONS, "reset")}
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class CtkImportError(ValueError):
    """The experiment cannot be imported; the message lists every problem, one a line."""


# --- the parts of a Chaos Toolkit experiment the import reads ------------------------------


class _Ctk(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Pauses(_Ctk):
    before: float = Field(default=0.0, ge=0)
    after: float = Field(default=0.0, ge=0)


class Provider(_Ctk):
    type: str
    module: str | None = None
    func: str | None = None
    arguments: dict[str, Any] | list[Any] | str | None = None
    url: str | None = None
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float | list[float] | None = None


class Activity(_Ctk):
    type: Literal["action", "probe"]
    name: str
    provider: Provider
    tolerance: Any = None
    pauses: Pauses = Field(default_factory=Pauses)
    background: bool = False

    @property
    def call(self) -> tuple[str | None, str | None]:
        return self.provider.module, self.provider.func

    def args(self) -> dict[str, Any]:
        given = self.provider.arguments
        return dict(given) if isinstance(given, Mapping) else {}


# --- the result ----------------------------------------------------------------------------


@dataclass
class ImportedExperiment:
    """The harness experiment (as the YAML data it is written as, and validated), and
    what the import left out on purpose."""

    data: dict[str, Any]
    experiment: Experiment
    warnings: list[str] = field(default_factory=list)

    def to_yaml(self, *, source: str) -> str:
        header = (
            f"# Imported from the Chaos Toolkit experiment {source} by `harness chaos import`.\n"
            "# Faults follow Chaos Toolkit's timeline (pauses included); rollback undoes them.\n"
        )
        notes = "".join(f"# note: {warning}\n" for warning in self.warnings)
        body = yaml.dump(self.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        return header + notes + body


class _Dumper(yaml.SafeDumper):
    """Lists of plain values in flow style (`status: [200, 204]`), as experiments are written."""


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str | int | float) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


@dataclass
class _Open:
    start: float
    label: str
    fault: dict[str, Any]


@dataclass
class _Import:
    config: Mapping[str, Any]
    topology: Topology | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    open_toxics: dict[tuple[str, str], _Open] = field(default_factory=dict)
    open_partitions: dict[str, _Open] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)

    # -- names ---------------------------------------------------------------------------

    def resolve(self, value: object, where: str) -> str | None:
        """A string with `${key}` placeholders of literal configuration values filled in."""
        text = str(value)
        for key in _PLACEHOLDER.findall(text):
            literal = self.config.get(key)
            if not isinstance(literal, str | int | float):
                self.problems.append(
                    f"{where}: ${{{key}}} is not a literal value of the experiment's "
                    "configuration, so the import cannot tell what it names"
                )
                return None
            text = text.replace(f"${{{key}}}", str(literal))
        return text

    def edge_for(self, proxy: object, where: str) -> str | None:
        if proxy is None:
            self.problems.append(f"{where}: missing (the proxy's name)")
            return None
        name = self.resolve(proxy, where)
        if name is None:
            return None
        if self.topology is not None:
            for spec in self.topology.edges:
                if name in (spec.proxy, spec.name):
                    return spec.name
            known = ", ".join(spec.proxy or spec.name for spec in self.topology.edges) or "none"
            self.problems.append(
                f"{where}: no edge of the topology has the proxy {name!r} (its proxies: {known})"
            )
            return None
        try:
            return Edge.parse(name).name
        except ValueError:
            self.problems.append(
                f"{where}: proxy {name!r} is not named 'source->target' as the harness names "
                "each edge's proxy; pass the topology (-t) if its edges name their proxies"
            )
            return None

    def label_for(self, wanted: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", wanted).strip("-") or "fault"
        label, n = base, 2
        while label in self.labels:
            label, n = f"{base}-{n}", n + 1
        self.labels.add(label)
        return label

    # -- the method's timeline -----------------------------------------------------------

    def close(self, opened: _Open, at: float) -> None:
        self.faults.append(
            {"label": opened.label, **opened.fault, "start": opened.start,
             "duration": round(at - opened.start, 3)}
        )  # fmt: skip

    def close_all(self, at: float) -> None:
        for opened in [*self.open_toxics.values(), *self.open_partitions.values()]:
            self.close(opened, at)
        self.open_toxics.clear()
        self.open_partitions.clear()

    def action(self, activity: Activity, at: float, where: str) -> None:
        module, func = activity.call
        args = activity.args()
        if module == TOXIC_ACTIONS and func in ("create_toxic", *_TOXIC_SHORTCUTS):
            self.create_toxic(activity, func or "", args, at, where)
        elif (module, func) == (TOXIC_ACTIONS, "delete_toxic"):
            edge = self.edge_for(args.get("for_proxy"), f"{where}.arguments.for_proxy")
            key = (edge or "", str(args.get("toxic_name")))
            opened = self.open_toxics.pop(key, None)
            if opened is None and edge is not None:
                self.problems.append(
                    f"{where}: deletes toxic {key[1]!r} on {edge}, which the method did not create"
                )
            elif opened is not None:
                self.close(opened, at)
        elif (module, func) == (PROXY_ACTIONS, "disable_proxy"):
            edge = self.edge_for(args.get("proxy_name"), f"{where}.arguments.proxy_name")
            if edge is not None and edge not in self.open_partitions:
                self.open_partitions[edge] = _Open(
                    at, self.label_for(activity.name), {"edge": edge, "toxic": "partition"}
                )
        elif (module, func) == (PROXY_ACTIONS, "enable_proxy"):
            edge = self.edge_for(args.get("proxy_name"), f"{where}.arguments.proxy_name")
            opened = self.open_partitions.pop(edge or "", None)
            if opened is not None:
                self.close(opened, at)
        elif (module, func) == (PROXY_ACTIONS, "reset"):
            self.close_all(at)
        else:
            self.problems.append(unsupported(activity, where))

    def create_toxic(
        self, activity: Activity, func: str, args: dict[str, Any], at: float, where: str
    ) -> None:
        edge = self.edge_for(args.get("for_proxy"), f"{where}.arguments.for_proxy")
        toxic_name = str(args.get("toxic_name") or activity.name)
        fault: dict[str, Any] = {"edge": edge}
        if func == "create_toxic":
            fault["toxic"] = args.get("toxic_type")
            fault["stream"] = args.get("stream", "downstream")
            fault["toxicity"] = args.get("toxicity", 1.0)
            fault["attributes"] = dict(args.get("attributes") or {})
        else:
            toxic, names = _TOXIC_SHORTCUTS[func]
            fault["toxic"] = toxic
            fault["attributes"] = {names[k]: v for k, v in args.items() if k in names}
        if edge is None:
            return
        if (edge, toxic_name) in self.open_toxics:
            self.problems.append(f"{where}: toxic {toxic_name!r} already exists on {edge}")
            return
        self.open_toxics[(edge, toxic_name)] = _Open(at, self.label_for(toxic_name), fault)

    # -- steady state --------------------------------------------------------------------

    def http_probe(self, activity: Activity, where: str) -> dict[str, Any] | None:
        provider = activity.provider
        if provider.type != "http" or activity.type != "probe":
            self.problems.append(unsupported(activity, where))
            return None
        service, path = self.service_and_path(provider.url or "", f"{where}.provider.url")
        statuses = self.statuses(activity.tolerance, f"{where}.tolerance")
        if service is None or statuses is None:
            return None
        method = provider.method.upper()
        request: dict[str, Any] = {"service": service, "method": method, "path": path}
        arguments = provider.arguments
        if arguments and method in ("GET", "HEAD", "DELETE") and isinstance(arguments, Mapping):
            request["path"] = f"{path}{'&' if '?' in path else '?'}{urlencode(arguments)}"
        elif arguments:
            request["json"] = arguments
        if provider.headers:
            request["headers"] = dict(provider.headers)
        if isinstance(provider.timeout, int | float):
            request["timeout"] = provider.timeout
        return {"name": activity.name, "http": request, "status": statuses}

    def service_and_path(self, url: str, where: str) -> tuple[str | None, str]:
        match = re.fullmatch(r"\$\{([^}]+)\}(/.*)?", url)
        if match is None:
            self.problems.append(
                f"{where}: {url!r} does not say which service it asks; write it as "
                "${<service>_url}/path with <service>_url in the configuration"
            )
            return None, "/"
        key, path = match.group(1), match.group(2) or "/"
        service = re.sub(r"[_-](base_)?url$", "", key, flags=re.IGNORECASE)
        if service == key:
            self.problems.append(f"{where}: ${{{key}}} should be named <service>_url")
            return None, path
        if self.topology is not None and service not in self.topology.services:
            known = ", ".join(self.topology.services)
            self.problems.append(
                f"{where}: ${{{key}}} names service {service!r}, which the topology does not "
                f"have ({known})"
            )
            return None, path
        return service, path

    def statuses(self, tolerance: object, where: str) -> list[int] | None:
        if isinstance(tolerance, int) and not isinstance(tolerance, bool):
            return [tolerance]
        if (
            isinstance(tolerance, list)
            and tolerance
            and all(isinstance(t, int) and not isinstance(t, bool) for t in tolerance)
        ):
            return list(tolerance)
        if isinstance(tolerance, Mapping) and tolerance.get("type") == "range":
            bounds = tolerance.get("range")
            if tolerance.get("target") in (None, "status") and isinstance(bounds, list):
                low, high = (int(b) for b in bounds)
                return list(range(low, high + 1))
        self.problems.append(
            f"{where}: tolerance {json.dumps(tolerance)} is not an HTTP status, a list of "
            "statuses or a range on the status (the harness's HTTP probes judge the status)"
        )
        return None


def unsupported(activity: Activity, where: str) -> str:
    provider = activity.provider
    what = (
        f"{provider.module}.{provider.func}"
        if provider.type == "python"
        else f"a {provider.type} {activity.type}"
    )
    return (
        f"{where} ({activity.name!r}): {what} is not supported here; the import takes "
        "chaostoolkit-toxiproxy toxic and proxy enable/disable/reset actions, and HTTP probes "
        "in the steady-state hypothesis"
    )


# --- entry points --------------------------------------------------------------------------


def import_ctk_file(path: Path, *, topology: Topology | None = None) -> ImportedExperiment:
    """Read a Chaos Toolkit experiment (JSON or YAML) and import it (see `import_ctk`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CtkImportError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CtkImportError(f"{path}: not valid JSON or YAML: {exc}") from None
    return import_ctk(data, source=str(path), topology=topology)


def import_ctk(
    data: object, *, source: str = "<ctk>", topology: Topology | None = None
) -> ImportedExperiment:
    """The harness experiment equivalent to the Chaos Toolkit experiment `data`, validated
    by the harness's loader (and against `topology` when given).

    Raises CtkImportError naming every activity that cannot be imported.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("method"), list):
        raise CtkImportError(f"{source}: not a Chaos Toolkit experiment (no `method` list)")
    config = data.get("configuration") or {}
    state = _Import(config=config if isinstance(config, Mapping) else {}, topology=topology)
    if data.get("controls"):
        state.warnings.append("controls are Chaos Toolkit extensions; not imported")

    hypothesis = data.get("steady-state-hypothesis") or {}
    probes = []
    for index, activity in _activities(hypothesis.get("probes") or [], "steady-state", state):
        probe = state.http_probe(activity, f"steady-state-hypothesis.probes[{index}]")
        if probe is not None:
            probes.append(probe)

    at = 0.0
    for index, activity in _activities(data["method"], "method", state):
        where = f"method[{index}]"
        at += activity.pauses.before
        if activity.background:
            state.problems.append(
                f"{where} ({activity.name!r}): background activities are not supported"
            )
        elif activity.type == "action":
            state.action(activity, at, where)
        elif activity.provider.type == "http":
            state.warnings.append(
                f"{where} probe {activity.name!r} skipped: Chaos Toolkit records its answer "
                "during the method without judging it"
            )
        else:
            state.problems.append(unsupported(activity, where))
        at += activity.pauses.after
    for opened in [*state.open_toxics.values(), *state.open_partitions.values()]:
        state.faults.append({"label": opened.label, **opened.fault, "start": opened.start})

    for index, activity in _activities(data.get("rollbacks") or [], "rollbacks", state):
        if activity.call not in _UNDOING:
            state.problems.append(unsupported(activity, f"rollbacks[{index}]"))

    if not state.faults and not state.problems:
        state.problems.append("method: no chaostoolkit-toxiproxy fault to import")
    if state.problems:
        raise CtkImportError("\n".join(f"{source}: {problem}" for problem in state.problems))

    imported: dict[str, Any] = {"title": str(data.get("title") or Path(source).stem)}
    if data.get("description"):
        imported["description"] = str(data["description"])
    if data.get("tags"):
        imported["tags"] = [str(tag) for tag in data["tags"]]
    steady: dict[str, Any] = {"probes": probes}
    if hypothesis.get("title"):
        steady = {"title": str(hypothesis["title"]), **steady}
    imported["steady_state"] = steady
    faults = sorted(state.faults, key=lambda fault: (fault["start"], fault["label"]))
    imported["method"] = {"duration": round(at, 3), "faults": faults}
    imported["rollback"] = {"reset_faults": True}
    try:
        experiment = parse_experiment(imported, source=source)
        if topology is not None:
            check_against_topology(experiment, topology)
    except ValueError as exc:
        raise CtkImportError(f"the imported experiment is not valid: {exc}") from None
    return ImportedExperiment(data=imported, experiment=experiment, warnings=state.warnings)


def _activities(
    items: Iterable[object], where: str, state: _Import
) -> Iterable[tuple[int, Activity]]:
    """Each activity, validated; `{"ref": name}` resolved to an activity defined before."""
    named: dict[str, Activity] = {}
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and set(item) == {"ref"}:
            found = named.get(str(item["ref"]))
            if found is None:
                state.problems.append(
                    f"{where}[{index}]: ref {item['ref']!r} names no activity before it"
                )
                continue
            yield index, found
            continue
        try:
            activity = Activity.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            state.problems.append(f"{where}[{index}].{key}: {first['msg']}")
            continue
        named[activity.name] = activity
        yield index, activity
