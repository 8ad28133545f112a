"""The harness's shared TLS context trusts what httpx itself would: SSL_CERT_FILE or
SSL_CERT_DIR when set (a company's own CA), else certifi's bundle."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
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
