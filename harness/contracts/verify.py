"""Provider verification: replay every pact against its provider, running for real.

Provider states are set up over HTTP: the verifier POSTs `{"state", "params", "action"}` to
`<provider URL><states_path>` before and after each interaction (the provider's test-mode
route). Message pacts are verified through `<provider URL><messages_path>`, which answers
with the message the provider would send (Pact's message transport over HTTP). So the
provider runs in its own process, started by the harness runtime, as it runs in production.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harness.contracts.pactfiles import PactFile
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

__all__ = [
    "DEFAULT_MESSAGES_PATH",
    "DEFAULT_STATES_PATH",
    "VerifyOptions",
    "verify_provider",
]

DEFAULT_STATES_PATH = "/_test/provider-states"
DEFAULT_MESSAGES_PATH = "/_test/messages"


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    """How providers are reached during verification.

    - `states_path` ("/_test/provider-states"): the provider's state-change route; None when
      the provider has none (then no pact may use provider states).
    - `messages_path` ("/_test/messages"): the provider's message route, used for message pacts.
    - `request_timeout` (10.0 s): per request the verifier sends.
    - `quiet` (True): keep the verifier's own printing off stdout (its text is in the result).
    """

    states_path: str | None = DEFAULT_STATES_PATH
    messages_path: str = DEFAULT_MESSAGES_PATH
    request_timeout: float = 10.0
    quiet: bool = True


def verify_provider(
    provider: str,
    *,
    url: str,
    pacts: Sequence[PactFile] = (),
    broker: BrokerVerification | None = None,
    options: VerifyOptions | None = None,
) -> ProviderResult:
    """Verify `provider`, reachable at `url`, against `pacts` (files) or the broker's pacts.

    Never raises for a failed verification: the result says what failed and carries the
    verifier's output. Raises ValueError for unusable input (no source, a bad URL).
    """
    options = options or VerifyOptions()
    if not pacts and broker is None:
        raise ValueError(f"nothing to verify {provider!r} against: give pacts or a broker")
    started = time.perf_counter()
    verifier = _verifier(provider, url=url, pacts=pacts, broker=broker, options=options)
    error: str | None = None
    try:
        with _stdout_silenced(enabled=options.quiet):
            verifier.verify()
    except RuntimeError as exc:
        error = str(exc)
    results = verifier.results
    interactions = [InteractionResult.from_verifier(r) for r in results["interactionResults"]]
    return ProviderResult(
        provider=provider,
        url=url,
        source=broker.describe() if broker else ", ".join(p.path.name for p in pacts),
        passed=error is None and bool(results.get("result", False)),
        interactions=interactions,
        output=verifier.output(strip_ansi=True),
        error=error,
        seconds=round(time.perf_counter() - started, 3),
    )


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
    if broker is not None or any(p.has_messages for p in pacts):
        verifier.add_transport(
            protocol="message", port=parts.port, path=options.messages_path, scheme=parts.scheme
        )
    if options.states_path is not None:
        verifier.state_handler(f"{base}{options.states_path}", teardown=True, body=True)
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
