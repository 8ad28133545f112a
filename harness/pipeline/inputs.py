"""What each stage runs on: the command line's inputs, else the topology's `[pipeline]` table,
else the default place beside the topology file; a stage with none is skipped, with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.pipeline.model import STAGE_NAMES, PipelineOptions, StageName, parse_stages
from harness.topology import Topology

__all__ = ["DEFAULT_EXPERIMENTS", "DEFAULT_LOAD_PROFILE", "DEFAULT_PACTS", "StageInputs"]

# Where each input is looked for beside the topology file when `[pipeline]` does not say.
DEFAULT_PACTS = "pacts"
DEFAULT_EXPERIMENTS = "chaos"
DEFAULT_LOAD_PROFILE = "load/smoke.yaml"


@dataclass(frozen=True, kw_only=True)
class StageInputs:
    """The resolved inputs of a run: the stages, the seed, and each stage's files.

    `skip` maps a stage to why it has nothing to run (it is then SKIPPED, not run).
    """

    stages: list[StageName]
    seed: int | None
    pact_dir: Path | None
    chaos_paths: tuple[Path, ...]
    load_profile: Path | None
    skip: dict[StageName, str] = field(default_factory=dict)
    chaos_parallel: int = 1  # experiments at once, each on its own system
    concurrent: tuple[StageName, ...] = ()  # stages run at the same time (see `steps`)

    def steps(self) -> list[list[StageName]]:
        """The stages in the order they run: each step's stages run at the same time. The
        concurrent stages (those of them selected) form one step, where the first of them is."""
        steps: list[list[StageName]] = []
        together: list[StageName] = []
        for name in self.stages:
            if name in self.concurrent:
                if not together:
                    steps.append(together)
                together.append(name)
            else:
                steps.append([name])
        return steps

    @classmethod
    def resolve(cls, options: PipelineOptions, topology: Topology) -> StageInputs:
        """Raises ValueError for an input of a selected stage that is declared (option or
        table) but missing; the inputs of stages not selected are not looked at."""
        settings = topology.pipeline
        where = f"{topology.path or 'the topology'} [pipeline]"
        if options.only is not None:
            stages = parse_stages(options.only)
        elif settings.stages is not None:
            try:
                stages = parse_stages(settings.stages)
            except ValueError as exc:
                raise ValueError(f"{where} stages: {exc}") from None
        else:
            stages = list(STAGE_NAMES)
        finder = _Finder(options, topology, where)
        pact_dir = finder.pacts() if "contracts" in stages else None
        chaos_paths = finder.experiments() if "chaos" in stages else ()
        profile = finder.load_profile() if "load" in stages else None
        if "explore" in stages and topology.explore.traffic is None:
            finder.skip["explore"] = "no traffic to explore with: [explore] traffic is not set"
        return cls(
            stages=stages,
            seed=options.seed if options.seed is not None else settings.seed,
            pact_dir=pact_dir,
            chaos_paths=chaos_paths,
            load_profile=profile,
            skip={name: reason for name, reason in finder.skip.items() if name in stages},
            chaos_parallel=options.chaos_parallel or settings.chaos_parallel,
            concurrent=_concurrent(options, settings.concurrent, where),
        )


class _Finder:
    """Each stage's input, and why a stage has none (`skip`)."""

    def __init__(self, options: PipelineOptions, topology: Topology, where: str) -> None:
        self.options = options
        self.settings = topology.pipeline
        self.base = topology.base_dir
        self.where = where
        self.skip: dict[StageName, str] = {}

    def _table(self, value: str | None) -> Path | None:
        return self.settings.path(value, self.base)

    def pacts(self) -> Path | None:
        table = self._table(self.settings.pacts)
        pact_dir = _declared(self.options.pact_dir, table, "pacts", self.where)
        if pact_dir is None:
            pact_dir = _beside(self.base, DEFAULT_PACTS)
            if pact_dir is None:
                self.skip["contracts"] = (
                    f"no pacts: [pipeline] pacts is not set and {self.base / DEFAULT_PACTS} "
                    "does not exist"
                )
                return None
        if not any(pact_dir.glob("*.json")):
            self.skip["contracts"] = f"no pact files (*.json) in {pact_dir}"
        return pact_dir

    def experiments(self) -> tuple[Path, ...]:
        if self.options.chaos_paths:
            paths = tuple(self.options.chaos_paths)
            for path in paths:
                if not path.exists():
                    raise ValueError(f"--chaos {path}: no such file or directory")
        else:
            declared = self._table(self.settings.experiments)
            if declared is not None and not declared.exists():
                raise ValueError(f"{self.where} experiments: {declared} does not exist")
            found = declared or _beside(self.base, DEFAULT_EXPERIMENTS)
            if found is None:
                self.skip["chaos"] = (
                    f"no experiments: [pipeline] experiments is not set and "
                    f"{self.base / DEFAULT_EXPERIMENTS} does not exist"
                )
                return ()
            paths = (found,)
        if not _has_experiments(paths):
            shown = ", ".join(str(p) for p in paths)
            self.skip["chaos"] = f"no experiment files (*.yaml, *.yml) in {shown}"
        return paths

    def load_profile(self) -> Path | None:
        table = self._table(self.settings.load_profile)
        profile = _declared(self.options.load_profile, table, "load_profile", self.where)
        if profile is None:
            profile = _beside(self.base, DEFAULT_LOAD_PROFILE)
            if profile is None:
                self.skip["load"] = (
                    f"no load profile: [pipeline] load_profile is not set and "
                    f"{self.base / DEFAULT_LOAD_PROFILE} does not exist"
                )
        return profile


def _concurrent(
    options: PipelineOptions, declared: tuple[str, ...], where: str
) -> tuple[StageName, ...]:
    if options.concurrent is not None:
        return tuple(parse_stages(options.concurrent))
    try:
        return tuple(parse_stages(declared))
    except ValueError as exc:
        raise ValueError(f"{where} concurrent: {exc}") from None


def _declared(option: Path | None, table: Path | None, key: str, where: str) -> Path | None:
    """The option's path, else the table's; either must exist when given."""
    if option is not None:
        if not option.exists():
            raise ValueError(f"--{key.replace('_', '-')} {option}: no such file or directory")
        return option
    if table is not None and not table.exists():
        raise ValueError(f"{where} {key}: {table} does not exist")
    return table


def _beside(base: Path, relative: str) -> Path | None:
    path = base / relative
    return path if path.exists() else None


def _has_experiments(paths: tuple[Path, ...]) -> bool:
    from harness.chaos.suite import expand_paths

    return bool(expand_paths(paths))
