"""A stand-in Pact Broker on loopback that records what it receives.

It speaks just enough of the broker's HAL API for the harness's workflow: the index,
`POST /contracts/publish`, the pacts-for-verification query, each pact, the verification
results, the matrix / can-i-deploy answers (configurable, and "unknown" for the first
`unknown_answers` questions, as while a provider is still verifying), and environments:
`GET /environments`, each pacticipant version with its `pb:record-deployment` and
`pb:record-release` links (one per environment, as the real broker lists them), and the
deployed-versions / released-versions resources those links point to. Every request is
recorded as (method, path, JSON body) for the tests to read.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class BrokerState:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    pacts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(
        default_factory=lambda: {
            "deployable": True,
            "reason": "All required verification results are published and successful",
            "success": 1,
            "failed": 0,
            "unknown": 0,
        }
    )
    fail_publish: bool = False
    # The environments the broker knows (name -> uuid); a real broker starts with none,
    # PactFlow with these two.
    environments: dict[str, str] = field(
        default_factory=lambda: {"test": str(uuid.uuid4()), "production": str(uuid.uuid4())}
    )
    # Pacticipant versions the broker knows: published consumers, verified providers, and
    # those a test adds.
    versions: set[tuple[str, str]] = field(default_factory=set)
    deployed: list[dict[str, Any]] = field(default_factory=list)
    released: list[dict[str, Any]] = field(default_factory=list)
    unknown_answers: int = 0  # can-i-deploy answers "unknown" this many times first

    def received(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]


def _handler(state: BrokerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _record(self) -> Recorded:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                body=json.loads(raw) if raw else None,
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            state.requests.append(recorded)
            return recorded

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/hal+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            request = self._record()
            path = request.path
            if path == "/":
                self._send(200, _index(state.url))
            elif path.endswith("/for-verification"):  # the verifier looks before it POSTs
                self._send(200, {"_links": {"self": {"href": f"{state.url}{path}"}}})
            elif path.startswith("/pacticipants/") and "/versions/" in path:
                _, _, pacticipant, _, number = path.split("/")[:5]
                if (pacticipant, number) not in state.versions:
                    self._send(404, {"error": f"no version {number} of {pacticipant}"})
                    return
                self._send(200, _version(state, pacticipant, number))
            elif path.startswith("/pacticipants/"):
                self._send(200, _pacticipant(state.url, path.split("/")[2]))
            elif path in ("/matrix", "/can-i-deploy"):
                self._send(200, {"summary": _next_summary(state), "matrix": []})
            elif path == "/environments":
                self._send(200, _environments(state))
            elif path.startswith("/pacts/provider/") and "/consumer/" in path:
                _, _, _, provider, _, consumer, *_ = path.split("/")
                pact = state.pacts.get((consumer, provider))
                if pact is None:
                    self._send(404, {"error": "no such pact"})
                    return
                results = f"{state.url}/pacts/provider/{provider}/consumer/{consumer}"
                links = {
                    "pb:publish-verification-results": {"href": f"{results}/verification-results"},
                    "pb:provider": {"href": f"{state.url}/pacticipants/{provider}"},
                }
                self._send(200, {**pact, "_links": links})
            else:
                self._send(404, {"error": f"unknown path {path}"})

        def do_POST(self) -> None:
            request = self._record()
            path = request.path
            if path == "/contracts/publish":
                if state.fail_publish:
                    self._send(400, {"errors": {"contracts": ["rejected by the stand-in"]}})
                    return
                for contract in request.body["contracts"]:
                    key = (contract["consumerName"], contract["providerName"])
                    state.pacts[key] = json.loads(base64.b64decode(contract["content"]))
                body = request.body
                state.versions.add((body["pacticipantName"], body["pacticipantVersionNumber"]))
                text = f"Published {len(request.body['contracts'])} pact(s)"
                self._send(200, {"notices": [{"type": "success", "text": text}]})
            elif path.endswith("/for-verification"):
                provider = path.split("/")[3]
                self._send(200, _for_verification(state, provider))
            elif path.endswith("/verification-results"):
                provider = path.split("/")[3]
                version = request.body.get("providerApplicationVersion")
                state.versions.add((provider, str(version)))
                self._send(201, {"success": request.body.get("success")})
            elif "/deployed-versions/environment/" in path or (
                "/released-versions/environment/" in path
            ):
                self._record_in_environment(request)
            else:
                self._send(404, {"error": f"unknown path {path}"})

        def _record_in_environment(self, request: Recorded) -> None:
            """POST .../versions/{v}/(deployed|released)-versions/environment/{uuid}."""
            _, _, pacticipant, _, number, kind, _, env_uuid = request.path.split("/")
            names = {u: n for n, u in state.environments.items()}
            if env_uuid not in names or (pacticipant, number) not in state.versions:
                self._send(404, {"error": "no such environment or version"})
                return
            record = {
                "uuid": str(uuid.uuid4()),
                "pacticipant": pacticipant,
                "version": number,
                "environment": names[env_uuid],
                "applicationInstance": (request.body or {}).get("applicationInstance"),
            }
            deployed = kind == "deployed-versions"
            (state.deployed if deployed else state.released).append(record)
            self._send(
                201,
                {
                    "uuid": record["uuid"],
                    "currentlyDeployed" if deployed else "currentlySupported": True,
                    "applicationInstance": record["applicationInstance"],
                    "_embedded": {
                        "version": {"number": number},
                        "environment": _environment(state.url, names[env_uuid], env_uuid),
                    },
                    "_links": {"self": {"href": f"{state.url}/{kind}/{record['uuid']}"}},
                },
            )

        def do_PUT(self) -> None:
            self._record()
            self._send(200, {})

    return Handler


def _index(url: str) -> dict[str, Any]:
    return {
        "_links": {
            "pb:publish-contracts": {"href": f"{url}/contracts/publish"},
            "pb:environments": {"href": f"{url}/environments"},
            "pb:pacticipant-version": {
                "href": f"{url}/pacticipants/{{pacticipant}}/versions/{{version}}",
                "templated": True,
            },
            "pb:provider-pacts-for-verification": {
                "href": f"{url}/pacts/provider/{{provider}}/for-verification",
                "templated": True,
            },
        }
    }


def _pacticipant(url: str, name: str) -> dict[str, Any]:
    base = f"{url}/pacticipants/{name}"
    return {
        "name": name,
        "_links": {
            "self": {"href": base},
            "pb:branch-version": {
                "href": f"{base}/branches/{{branch}}/versions/{{version}}",
                "templated": True,
            },
            "pb:version-tag": {
                "href": f"{base}/versions/{{version}}/tags/{{tag}}",
                "templated": True,
            },
        },
    }


def _next_summary(state: BrokerState) -> dict[str, Any]:
    if state.unknown_answers > 0:
        state.unknown_answers -= 1
        return {
            "deployable": None,
            "reason": "Missing one or more required verification results",
            "success": 0,
            "failed": 0,
            "unknown": 1,
        }
    return state.summary


def _environment(url: str, name: str, env_uuid: str) -> dict[str, Any]:
    return {
        "uuid": env_uuid,
        "name": name,
        "displayName": name.title(),
        "production": name == "production",
        "_links": {"self": {"href": f"{url}/environments/{env_uuid}"}},
    }


def _environments(state: BrokerState) -> dict[str, Any]:
    listed = [_environment(state.url, n, u) for n, u in sorted(state.environments.items())]
    return {
        "_embedded": {"environments": listed},
        "_links": {"self": {"href": f"{state.url}/environments"}},
    }


def _version(state: BrokerState, pacticipant: str, number: str) -> dict[str, Any]:
    base = f"{state.url}/pacticipants/{pacticipant}/versions/{number}"

    def per_environment(kind: str) -> list[dict[str, str]]:
        return [
            {
                "title": f"Record {kind} to {name}",
                "name": name,
                "href": f"{base}/{kind}/environment/{u}",
            }
            for name, u in sorted(state.environments.items())
        ]

    return {
        "number": number,
        "_links": {
            "self": {"href": base},
            "pb:pacticipant": {"href": f"{state.url}/pacticipants/{pacticipant}"},
            "pb:record-deployment": per_environment("deployed-versions"),
            "pb:record-release": per_environment("released-versions"),
        },
    }


def _for_verification(state: BrokerState, provider: str) -> dict[str, Any]:
    pacts = [
        {
            "shortDescription": f"latest from {consumer}",
            "verificationProperties": {"pending": False, "notices": []},
            "_links": {
                "self": {
                    "href": f"{state.url}/pacts/provider/{provider}/consumer/{consumer}/version/1",
                    "name": f"Pact between {consumer} and {provider}",
                },
            },
        }
        for (consumer, wanted) in sorted(state.pacts)
        if wanted == provider
    ]
    return {"_embedded": {"pacts": pacts}}


@contextmanager
def standin_broker() -> Iterator[BrokerState]:
    """Serve a stand-in broker on 127.0.0.1 (a free port) for the duration of the block."""
    state = BrokerState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
        name="standin-broker",
        daemon=True,
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
