"""Pact Broker workflow over its HTTP API: publish pacts, verify from the broker,
can-i-deploy (to an environment, retrying while the answer is unknown), and record
deployments and releases.

pact-python verifies from a broker but cannot publish consumer pacts; the broker's own API
(`POST /contracts/publish`, found through the `pb:publish-contracts` link of its index) does
that in one call per consumer, so no extra binary is needed. The other calls make the same
requests as the official Pact CLI (`pact-broker can-i-deploy`, `record-deployment`,
`record-release`): the matrix query, and the `pb:record-deployment` / `pb:record-release`
links of a pacticipant version, one per environment. Configuration comes from the
environment the Pact tools use: `PACT_BROKER_URL` (or `PACT_BROKER_BASE_URL`), and
`PACT_BROKER_TOKEN` or `PACT_BROKER_USERNAME` / `PACT_BROKER_PASSWORD`.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from harness import http_clients
from harness.contracts.pactfiles import PactFile

if TYPE_CHECKING:
    from pact import Verifier

__all__ = [
    "BrokerConfig",
    "BrokerError",
    "BrokerVerification",
    "DeployVerdict",
    "EnvironmentRecord",
    "PublishReceipt",
    "VersionInfo",
    "can_i_deploy",
    "publish_pacts",
    "record_deployment",
    "record_release",
    "version_from_git",
]

HAL = "application/hal+json"


class BrokerError(RuntimeError):
    """The broker refused a request or could not be reached; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class BrokerConfig:
    """Where the broker is and how to authenticate (a token, or a username and password)."""

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BrokerConfig | None:
        """The broker named by `PACT_BROKER_URL` / `PACT_BROKER_BASE_URL`, or None."""
        env = os.environ if environ is None else environ
        url = env.get("PACT_BROKER_URL") or env.get("PACT_BROKER_BASE_URL")
        if not url:
            return None
        return cls(
            url=url.rstrip("/"),
            token=env.get("PACT_BROKER_TOKEN") or None,
            username=env.get("PACT_BROKER_USERNAME") or None,
            password=env.get("PACT_BROKER_PASSWORD") or None,
        )

    def client(self, *, timeout: float = 10.0) -> httpx.Client:
        headers = {"Accept": f"{HAL}, application/json"}
        auth: httpx.Auth | None = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username:
            auth = httpx.BasicAuth(self.username, self.password or "")
        return http_clients.client(base_url=self.url, headers=headers, auth=auth, timeout=timeout)


@dataclass(frozen=True, kw_only=True)
class VersionInfo:
    """An application version as the broker records it: a version number and a branch."""

    number: str
    branch: str | None = None


def version_from_git(cwd: Path | None = None) -> VersionInfo:
    """The current commit's sha and branch (`GIT_COMMIT` / `GIT_BRANCH` win, as in CI)."""
    sha = os.environ.get("GIT_COMMIT") or _git("rev-parse", "HEAD", cwd=cwd)
    branch = os.environ.get("GIT_BRANCH") or _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)
    return VersionInfo(number=sha, branch=None if branch == "HEAD" else branch)


def _git(*args: str, cwd: Path | None) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BrokerError(
            f"cannot read the version from git (git {' '.join(args)}): {exc}; "
            "pass the version explicitly or set GIT_COMMIT"
        ) from None
    return done.stdout.strip()


# -- publishing ---------------------------------------------------------------------------


class PublishReceipt(BaseModel):
    consumer: str
    version: str
    branch: str | None
    pacts: list[str]
    notices: list[str]


def publish_pacts(
    pacts: Sequence[PactFile],
    *,
    broker: BrokerConfig,
    version: VersionInfo,
    tags: Sequence[str] = (),
    client: httpx.Client | None = None,
) -> list[PublishReceipt]:
    """Publish `pacts` with the consumer version and branch: one request per consumer.

    Raises BrokerError when the broker is unreachable or refuses a publication.
    """
    if not pacts:
        raise ValueError("no pacts to publish")
    by_consumer: dict[str, list[PactFile]] = {}
    for pact in pacts:
        by_consumer.setdefault(pact.consumer, []).append(pact)
    with _client(broker, client) as http:
        url = _link(http, "pb:publish-contracts", default="/contracts/publish")
        return [
            _publish_one(http, url, consumer, files, version, tags)
            for consumer, files in sorted(by_consumer.items())
        ]


def _publish_one(
    http: httpx.Client,
    url: str,
    consumer: str,
    files: list[PactFile],
    version: VersionInfo,
    tags: Sequence[str],
) -> PublishReceipt:
    body: dict[str, Any] = {
        "pacticipantName": consumer,
        "pacticipantVersionNumber": version.number,
        "tags": list(tags),
        "contracts": [
            {
                "consumerName": pact.consumer,
                "providerName": pact.provider,
                "specification": "pact",
                "contentType": "application/json",
                "content": base64.b64encode(pact.content()).decode(),
                "onConflict": "overwrite",
            }
            for pact in files
        ],
    }
    if version.branch:
        body["branch"] = version.branch
    answer = _call(http, "POST", url, json=body)
    notices = [str(n.get("text", n)) for n in _json(answer).get("notices", [])]
    return PublishReceipt(
        consumer=consumer,
        version=version.number,
        branch=version.branch,
        pacts=[p.path.name for p in files],
        notices=notices,
    )


# -- verifying from the broker ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BrokerVerification:
    """Verify the broker's pacts for a provider, and publish the results.

    - `provider_version`: the provider's version (and branch) the results are recorded for.
    - `selectors` (default: the consumers' main branch, what is deployed or released, and
      the branch matching the provider's): consumer version selectors, as pact-python's
      `BrokerSelectorBuilder.consumer_version` keyword arguments.
    - `include_pending` (True): pacts not yet verified by this provider do not fail it.
    - `publish_results` (True): send the verification results to the broker.
    """

    broker: BrokerConfig
    provider_version: VersionInfo
    selectors: tuple[Mapping[str, Any], ...] = (
        {"main_branch": True},
        {"deployed_or_released": True},
        {"matching_branch": True},
    )
    include_pending: bool = True
    publish_results: bool = True
    build_url: str | None = None

    def describe(self) -> str:
        return f"broker {self.broker.url}"

    def configure(self, verifier: Verifier) -> None:
        if self.broker.username:
            builder = verifier.broker_source(
                self.broker.url,
                username=self.broker.username,
                password=self.broker.password,
                selector=True,
                use_env=False,
            )
        else:
            builder = verifier.broker_source(
                self.broker.url, token=self.broker.token, selector=True, use_env=False
            )
        for selector in self.selectors:
            builder.consumer_version(**selector)
        if self.provider_version.branch:
            builder.provider_branch(self.provider_version.branch)
        if self.include_pending:
            builder.include_pending()
        builder.build()
        verifier.set_error_on_empty_pact(enabled=False)
        if self.publish_results:
            verifier.set_publish_options(
                version=self.provider_version.number,
                branch=self.provider_version.branch,
                url=self.build_url,
            )


# -- can-i-deploy -------------------------------------------------------------------------


class DeployVerdict(BaseModel):
    pacticipant: str
    version: str
    deployable: bool | None  # None: the broker does not know yet
    reason: str
    summary: dict[str, Any]
    environment: str | None = None
    asked: int = 1  # how many times the broker was asked (retries while unknown)

    @property
    def unknown(self) -> bool:
        """The broker lacks verification results it needs (a provider is still verifying)."""
        count = self.summary.get("unknown")
        return self.deployable is None or (isinstance(count, int) and count > 0)


def can_i_deploy(
    *,
    broker: BrokerConfig,
    pacticipant: str,
    version: str,
    environment: str | None = None,
    retry_while_unknown: int = 0,
    retry_interval: float = 10.0,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_unknown: Callable[[DeployVerdict], None] | None = None,
) -> DeployVerdict:
    """May `pacticipant` at `version` be deployed (to `environment`, else with the latest
    version of everything it integrates with)? Asks the broker's matrix.

    While the answer is unknown (verification results the broker needs have not arrived,
    e.g. the provider's pipeline is still verifying), ask again up to `retry_while_unknown`
    times, `retry_interval` seconds apart, as the Pact CLI's `--retry-while-unknown` does;
    the last answer is returned, unknown or not. `on_unknown` hears each unknown answer
    before the wait (to show progress).
    """
    if retry_while_unknown < 0 or retry_interval < 0:
        raise ValueError("retry_while_unknown and retry_interval must be 0 or more")
    params: list[tuple[str, str]] = [
        ("q[][pacticipant]", pacticipant),
        ("q[][version]", version),
    ]
    if environment:  # as `pact-broker can-i-deploy --to-environment` asks
        params += [("latestby", "cvpv"), ("environment", environment)]
    else:
        params += [("latestby", "cvp"), ("latest", "true")]
    with _client(broker, client) as http:
        asked = 0
        while True:
            asked += 1
            verdict = _verdict(http, params, pacticipant, version, environment, asked)
            if not verdict.unknown or asked > retry_while_unknown:
                return verdict
            if on_unknown is not None:
                on_unknown(verdict)
            sleep(retry_interval)


def _verdict(
    http: httpx.Client,
    params: list[tuple[str, str]],
    pacticipant: str,
    version: str,
    environment: str | None,
    asked: int,
) -> DeployVerdict:
    summary = _json(_call(http, "GET", "/matrix", params=params)).get("summary")
    if not isinstance(summary, dict):
        raise BrokerError(f"{http.base_url.join('/matrix')}: the answer has no 'summary' object")
    deployable = summary.get("deployable")
    return DeployVerdict(
        pacticipant=pacticipant,
        version=version,
        deployable=deployable if isinstance(deployable, bool) else None,
        reason=str(summary.get("reason", "")),
        summary=summary,
        environment=environment,
        asked=asked,
    )


# -- environments: record-deployment and record-release ---------------------------------


class EnvironmentRecord(BaseModel):
    """A deployment or release the broker recorded."""

    kind: Literal["deployment", "release"]
    pacticipant: str
    version: str
    environment: str
    application_instance: str | None = None
    url: str | None = None  # the broker's resource for it


def record_deployment(
    *,
    broker: BrokerConfig,
    pacticipant: str,
    version: str,
    environment: str,
    application_instance: str | None = None,
    client: httpx.Client | None = None,
) -> EnvironmentRecord:
    """Tell the broker `pacticipant` `version` is now deployed to `environment` (replacing
    the version deployed there before, per `application_instance`): what the
    `deployedOrReleased` selector and `can-i-deploy --to-environment` read."""
    body = {"applicationInstance": application_instance} if application_instance else {}
    target = EnvironmentRecord(
        kind="deployment",
        pacticipant=pacticipant,
        version=version,
        environment=environment,
        application_instance=application_instance,
    )
    return _record(target, body=body, broker=broker, client=client)


def record_release(
    *,
    broker: BrokerConfig,
    pacticipant: str,
    version: str,
    environment: str,
    client: httpx.Client | None = None,
) -> EnvironmentRecord:
    """Tell the broker `pacticipant` `version` is released to `environment` (earlier releases
    stay supported: mobile apps, libraries)."""
    target = EnvironmentRecord(
        kind="release", pacticipant=pacticipant, version=version, environment=environment
    )
    return _record(target, body={}, broker=broker, client=client)


_RECORD_RELATION = {"deployment": "pb:record-deployment", "release": "pb:record-release"}


def _record(
    target: EnvironmentRecord,
    *,
    body: dict[str, Any],
    broker: BrokerConfig,
    client: httpx.Client | None,
) -> EnvironmentRecord:
    """POST to the version's `pb:record-*` link named after the environment (the broker
    lists one per environment it knows)."""
    kind, pacticipant, version = target.kind, target.pacticipant, target.version
    environment = target.environment
    relation = _RECORD_RELATION[kind]
    version_path = f"/pacticipants/{quote(pacticipant, safe='')}/versions/{quote(version, safe='')}"
    with _client(broker, client) as http:
        try:
            answer = http.get(version_path)
        except httpx.HTTPError as exc:
            raise BrokerError(f"GET {http.base_url.join(version_path)}: {exc}") from None
        if answer.status_code == 404:
            raise BrokerError(
                f"the broker has no version {version} of {pacticipant}: publish its pacts or "
                "verify it (with results published) before recording a "
                f"{kind} ({answer.request.url} answered 404)"
            )
        if answer.status_code >= 400:
            _call(http, "GET", version_path)  # raises with the broker's answer
        links = _json(answer).get("_links", {}).get(relation, [])
        links = [links] if isinstance(links, dict) else links
        targets = {
            link.get("name"): link.get("href")
            for link in links
            if isinstance(link, dict) and isinstance(link.get("href"), str)
        }
        href = targets.get(environment)
        if href is None:
            known = ", ".join(sorted(str(name) for name in targets)) or "none"
            raise BrokerError(
                f"the broker has no environment {environment!r} (known: {known}); create "
                f"it first (pact-broker create-environment --name {environment})"
            )
        recorded = _json(_call(http, "POST", href, json=body))
    self_link = recorded.get("_links", {}).get("self", {}).get("href")
    return target.model_copy(update={"url": self_link if isinstance(self_link, str) else None})


# -- HTTP helpers ---------------------------------------------------------------------------


@contextmanager
def _client(broker: BrokerConfig, given: httpx.Client | None) -> Iterator[httpx.Client]:
    """`given` as is (the caller closes it), else a client of our own, closed on exit."""
    if given is not None:
        yield given
        return
    with broker.client() as http:
        yield http


def _link(http: httpx.Client, relation: str, *, default: str) -> str:
    """The broker index's link for `relation` (HAL), or `default` when the index lacks it."""
    index = _json(_call(http, "GET", "/"))
    href = index.get("_links", {}).get(relation, {}).get("href")
    return href if isinstance(href, str) and href else default


def _call(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        answer = http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise BrokerError(f"{method} {http.base_url.join(url)}: {exc}") from None
    if answer.status_code >= 400:
        raise BrokerError(
            f"{method} {answer.request.url} answered {answer.status_code}: {answer.text[:500]}"
        )
    return answer


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        raise BrokerError(f"{answer.request.url}: the broker answered no JSON") from None
    return body if isinstance(body, dict) else {}
