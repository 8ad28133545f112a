"""A stand-in Pact Broker on loopback that records what it receives.

It speaks just enough of the broker's HAL API for the harness's workflow: the index,
`POST /contracts/publish`, the pacts-for-verification query, each pact, the verification
results, and the matrix / can-i-deploy answers (configurable). Every request is recorded as
(method, path, JSON body) for the tests to read.
"""

from __future__ import annotations

import base64
import json
import threading
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
            elif path.startswith("/pacticipants/"):
                self._send(200, _pacticipant(state.url, path.split("/")[2]))
            elif path in ("/matrix", "/can-i-deploy"):
                self._send(200, {"summary": state.summary, "matrix": []})
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
                text = f"Published {len(request.body['contracts'])} pact(s)"
                self._send(200, {"notices": [{"type": "success", "text": text}]})
            elif path.endswith("/for-verification"):
                provider = path.split("/")[3]
                self._send(200, _for_verification(state, provider))
            elif path.endswith("/verification-results"):
                self._send(201, {"success": request.body.get("success")})
            else:
                self._send(404, {"error": f"unknown path {path}"})

        def do_PUT(self) -> None:
            self._record()
            self._send(200, {})

    return Handler


def _index(url: str) -> dict[str, Any]:
    return {
        "_links": {
            "pb:publish-contracts": {"href": f"{url}/contracts/publish"},
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
