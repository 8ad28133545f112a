"""Provider verification: replay every pact against its provider, running for real.

Each provider declares how it is verified (`[services.NAME.conventions]`, see
`harness.topology.conventions`), and `run_contracts` passes that on as `VerifyOptions`:

- `provider_states`: the provider's state-change route. The verifier POSTs
  `{"state", "params", "action"}` to `<provider URL><route>` before and after each
  interaction. A provider without one ("") gets no state-change call at all: interactions
  without a provider state are verified plainly, and those with one fail, naming the
  setting to declare.
- `messages`: the route that answers with the message the provider would send (Pact's
  message transport over HTTP), for message pacts; without one, message interactions fail
  naming that setting.

So the provider runs in its own process, started by the harness runtime (or already
running), as it runs in production.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.contracts.pactfiles import Interaction, PactFile
from harness.contracts.results import InteractionResult, ProviderResult

try:
    # Imported here, not when first used: under pytest, a late first import of pact's modules
    # (which pytest rewrites, as a plugin's) has failed with CPython 3.11's "AST constructor
    # recursion depth mismatch".
    from pact import Verifier
except ImportError:  # pragma: no cover - the `pipeline` extra is not installed
    Verifier = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from harness.contracts.broker import BrokerVerification

__all__ = ["VerifyOptions", "missing_route_message", "verify_provider"]


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    """How providers are reached during verification (all keyword-only).

    - `states_path` (None): the provider's state-change route ("" or None: it has none).
      `run_contracts` fills None from the provider's `provider_states` convention.
    - `messages_path` (None): the provider's message route, for message pacts ("" or None:
      none). `run_contracts` fills None from the provider's `messages` convention.
    - `request_timeout` (10.0 s): per request the verifier sends.
    - `quiet` (True): keep the verifier's own printing off stdout (its text is in the result).
    """

    states_path: str | None = None
    messages_path: str | None = None
    request_timeout: float = 10.0
    quiet: bool = True


def missing_route_message(provider: str, setting: str, need: str) -> str:
    """Why an interaction cannot be verified: `provider` declares no `setting` route."""
    return (
        f"{need}, but {provider} declares no {setting} route: set "
        f'`{setting} = "/path"` under [services.{provider}.conventions] (or [conventions]) '
        "in the topology"
    )


def verify_provider(
    provider: str,
    *,
    url: str,
    pacts: Sequence[PactFile] = (),
    broker: BrokerVerification | None = None,
    options: VerifyOptions | None = None,
) -> ProviderResult:
    """Verify `provider`, reachable at `url`, against `pacts` (files) or the broker's pacts.

    Never raises for a failed verification: the result says what failed, with the first
    mismatch, and carries the verifier's output. Raises ValueError for unusable input (no
    source, a bad URL).
    """
    options = options or VerifyOptions()
    if not pacts and broker is None:
        raise ValueError(f"nothing to verify {provider!r} against: give pacts or a broker")
    started = time.perf_counter()
    raised: str | None = None
    results: dict[str, Any] = {"result": True, "interactionResults": []}
    output = ""
    if broker is not None or options.states_path or _any_without_state(pacts):
        verifier = _verifier(provider, url=url, pacts=pacts, broker=broker, options=options)
        try:
            with _stdout_silenced(enabled=options.quiet):
                verifier.verify()
        except RuntimeError as exc:
            raised = str(exc)
        results = verifier.results
        output = verifier.output(strip_ansi=True)
    interactions = [InteractionResult.from_verifier(r) for r in results["interactionResults"]]
    interactions = _messages_without_route(provider, interactions, pacts, options)
    interactions += _states_without_route(provider, pacts, options)
    if broker is not None and not options.states_path:
        # The broker's interactions are only known once fetched: those with a state were
        # replayed with no set-up, and fail for want of the route whatever they got.
        interactions = [_stateful_failed(provider, item) for item in interactions]
    ran_clean = raised is None and bool(results.get("result", False))
    return ProviderResult(
        provider=provider,
        url=url,
        source=broker.describe() if broker else ", ".join(p.path.name for p in pacts),
        passed=ran_clean and all(i.passed for i in interactions),
        interactions=interactions,
        output=output,
        # The verifier's own exception says only "Failed to execute verifier for
        # VerifierHandle(0x...)"; an error is kept only when no interaction says what failed.
        error=None
        if raised is None or any(not i.passed for i in interactions)
        else _run_error(results, output, raised),
        seconds=round(time.perf_counter() - started, 3),
    )


def _any_without_state(pacts: Sequence[PactFile]) -> bool:
    return any(not i.states for pact in pacts for i in pact.interactions)


def _states_without_route(
    provider: str, pacts: Sequence[PactFile], options: VerifyOptions
) -> list[InteractionResult]:
    """The interactions with a provider state, failed, when the provider has no states route
    (the verifier was told to skip them: see `_verifier`)."""
    if options.states_path:
        return []
    return [
        _not_verified(
            pact,
            interaction,
            missing_route_message(
                provider,
                "provider_states",
                f"needs the provider state {', '.join(repr(s) for s in interaction.states)}",
            ),
        )
        for pact in pacts
        for interaction in pact.interactions
        if interaction.states
    ]


def _messages_without_route(
    provider: str,
    interactions: list[InteractionResult],
    pacts: Sequence[PactFile],
    options: VerifyOptions,
) -> list[InteractionResult]:
    """Message interactions replaced by a failure naming the `messages` setting when the
    provider declares no message route (the verifier tried them over plain HTTP)."""
    if options.messages_path:
        return interactions
    messages = {
        (pact.consumer, i.description)
        for pact in pacts
        for i in pact.interactions
        if i.kind == "message"
    }
    need = "is a message interaction"
    return [
        item.model_copy(
            update={
                "passed": False,
                "mismatches": (missing_route_message(provider, "messages", need),),
            }
        )
        if (item.consumer, item.description) in messages
        else item
        for item in interactions
    ]


def _stateful_failed(provider: str, item: InteractionResult) -> InteractionResult:
    if not item.states:
        return item
    need = f"needs the provider state {', '.join(repr(s) for s in item.states)}"
    why = missing_route_message(provider, "provider_states", need)
    return item.model_copy(update={"passed": False, "mismatches": (why, *item.mismatches)})


def _not_verified(pact: PactFile, interaction: Interaction, why: str) -> InteractionResult:
    return InteractionResult(
        consumer=pact.consumer,
        provider=pact.provider,
        description=interaction.description,
        states=interaction.states,
        passed=False,
        mismatches=(why,),
    )


def _run_error(results: dict[str, Any], output: str, raised: str) -> str:
    """What stopped a verification that names no failed interaction (no pact found, the
    broker unreachable...): the verifier's own errors, else the end of its output."""
    errors = results.get("errors") or []
    lines = [str(e.get("mismatch") if isinstance(e, dict) else e) for e in errors]
    if not lines:
        lines = [line.strip() for line in output.splitlines() if line.strip()][-3:]
    return "; ".join(lines) or raised


def _verifier(
    provider: str,
    *,
    url: str,
    pacts: Sequence[PactFile],
    broker: BrokerVerification | None,
    options: VerifyOptions,
) -> Verifier:
    if Verifier is None:
        raise RuntimeError("provider verification needs pact-python: install harness[pipeline]")
    # The FFI would send anonymous usage data; nothing the harness does leaves loopback.
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.port:
        raise ValueError(f"{provider}: expected a URL such as http://127.0.0.1:8101, got {url!r}")
    base = url.rstrip("/")
    # The verifier insists that the transport's host is the one it was created with.
    verifier = Verifier(provider, host=parts.hostname).add_transport(url=base)
    verifier.set_request_timeout(int(options.request_timeout * 1000)).set_coloured_output(
        enabled=False
    )
    if options.messages_path and (broker is not None or any(p.has_messages for p in pacts)):
        verifier.add_transport(
            protocol="message", port=parts.port, path=options.messages_path, scheme=parts.scheme
        )
    if options.states_path:
        verifier.state_handler(f"{base}{options.states_path}", teardown=True, body=True)
    elif broker is None:
        # No state-change route (and so no state-change call at all): only the interactions
        # without a state are replayed; `_states_without_route` fails the others.
        verifier.filter(no_state=True)
    for pact in pacts:
        verifier.add_source(pact.path)
    if broker is not None:
        broker.configure(verifier)
    return verifier


@contextmanager
def _stdout_silenced(*, enabled: bool) -> Iterator[None]:
    """Point file descriptor 1 at /dev/null: the verifier's Rust core prints its report there."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
