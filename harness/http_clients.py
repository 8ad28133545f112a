"""The harness's HTTP clients: httpx clients that share one TLS context.

httpx builds a TLS context, reading the whole CA bundle, for every client it creates, even
one that only ever speaks plain HTTP to loopback: about 50 ms of CPU each, against 0.2 ms
with a context built once. The harness creates clients for every health wait, probe and
scrape, in every worker process, so they all come from here.

The shared context reads the CA bundle at its first TLS handshake, not when it is built:
most harness processes (a CLI call, a pool worker, a fault proxy) only ever speak plain HTTP
to loopback, and reading the bundle (about 45 ms of CPU, 144 certificates here) was the
largest part of their first client.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
from typing import Any

import httpx

__all__ = ["async_client", "client", "get", "post", "tls_context"]


_BUILDING = threading.Lock()


class _TrustOnFirstHandshake(ssl.SSLContext):
    """A verifying client context (as `ssl.create_default_context()` makes) that loads its
    CA certificates when it first wraps a connection, or is asked about them."""

    def __new__(cls) -> _TrustOnFirstHandshake:
        # a client context verifies the certificate and the host name from the start
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        self._loaded = False
        self._loading = threading.Lock()

    def _trusting(self) -> None:
        with self._loading:
            if not self._loaded:
                _load_trusted(self)
                self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trusting()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trusting()
        return super().wrap_bio(*args, **kwargs)

    def cert_store_stats(self) -> dict[str, int]:
        self._trusting()
        return super().cert_store_stats()

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        self._trusting()
        return super().get_ca_certs(binary_form)


def _load_trusted(context: ssl.SSLContext) -> None:
    # the CA certificates httpx itself trusts: SSL_CERT_FILE or SSL_CERT_DIR when set (a
    # company's own CA), else certifi's bundle
    if os.environ.get("SSL_CERT_FILE"):
        context.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        context.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
    else:
        import certifi

        context.load_verify_locations(cafile=certifi.where())


@functools.cache
def _context() -> ssl.SSLContext:
    return _TrustOnFirstHandshake()


def tls_context() -> ssl.SSLContext:
    """One verifying context per process, on the CA bundle httpx itself would load when it
    first makes a TLS connection (built once even when several threads ask at the same time,
    as health waits do)."""
    with _BUILDING:
        return _context()


def client(**kwargs: Any) -> httpx.Client:
    """`httpx.Client(**kwargs)` on the shared TLS context (unless `verify` is given)."""
    kwargs.setdefault("verify", tls_context())
    return httpx.Client(**kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    """`httpx.AsyncClient(**kwargs)` on the shared TLS context (unless `verify` is given)."""
    kwargs.setdefault("verify", tls_context())
    return httpx.AsyncClient(**kwargs)


def _one(method: str, url: str, kwargs: dict[str, Any]) -> httpx.Response:
    options = {key: kwargs.pop(key) for key in ("trust_env", "follow_redirects") if key in kwargs}
    with client(timeout=kwargs.pop("timeout", 5.0), **options) as session:
        return session.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.get`, on a client of the shared TLS context."""
    return _one("GET", url, kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.post`, on a client of the shared TLS context."""
    return _one("POST", url, kwargs)
