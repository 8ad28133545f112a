"""The harness's shared TLS context trusts what httpx itself would: SSL_CERT_FILE or
SSL_CERT_DIR when set (a company's own CA), else certifi's bundle; it reads them at the first
TLS handshake (checked against a real HTTPS server on loopback), never for plain HTTP."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import httpx
import pytest

from harness import http_clients


@pytest.fixture(autouse=True)
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    http_clients._context.cache_clear()
    yield
    http_clients._context.cache_clear()


def _one_certificate(tmp_path: Path) -> Path:
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----"
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    path = tmp_path / "company-ca.pem"
    path.write_text(first + "\n")
    return path


def test_ssl_cert_file_is_the_only_ca_trusted_when_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(_one_certificate(tmp_path)))
    assert http_clients.tls_context().cert_store_stats()["x509_ca"] == 1


def test_without_it_certifis_bundle_is_trusted() -> None:
    expected = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert http_clients.tls_context().cert_store_stats()["x509_ca"] == expected > 1
    assert http_clients.tls_context() is http_clients.tls_context()  # built once


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback with a self-signed certificate for 127.0.0.1 (made by the
    openssl command); yields its URL and the certificate, which is its own CA."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    server.socket = served.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


def test_the_trusted_certificates_are_read_at_the_first_tls_handshake_and_verified(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert http_clients._context()._loaded is False  # type: ignore[attr-defined]
    assert http_clients.get(url).text == "hello"
    assert http_clients._context()._loaded is True  # type: ignore[attr-defined]


def test_an_async_client_verifies_through_the_same_context(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    async def fetch() -> str:
        async with http_clients.async_client() as client:
            return (await client.get(url)).text

    assert asyncio.run(fetch()) == "hello"


def test_a_server_whose_certificate_is_not_trusted_is_refused(
    https_server: tuple[str, Path],
) -> None:
    url, _cert = https_server  # certifi's bundle does not know this self-signed certificate
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        http_clients.get(url)


def test_plain_http_never_reads_the_certificates(https_server: tuple[str, Path]) -> None:
    with pytest.raises(httpx.HTTPError):  # nothing listens on port 9 (discard) here
        http_clients.get("http://127.0.0.1:9/", timeout=1.0)
    with http_clients.client(base_url="http://127.0.0.1:9") as client:
        assert client.base_url.scheme == "http"
    assert http_clients._context()._loaded is False  # type: ignore[attr-defined]
