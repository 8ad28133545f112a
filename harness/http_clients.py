"""The harness's HTTP clients: httpx clients that share one TLS context.

httpx builds a TLS context, reading the whole CA bundle, for every client it creates, even
one that only ever speaks plain HTTP to loopback: about 50 ms of CPU each, against 0.2 ms
with a context built once. The harness creates clients for every health wait, probe and
scrape, in every worker process, so they all come from here.
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


@functools.cache
def _context() -> ssl.SSLContext:
    # the CA certificates httpx itself trusts: SSL_CERT_FILE or SSL_CERT_DIR when set (a
    # company's own CA), else certifi's bundle
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def tls_context() -> ssl.SSLContext:
    """One verifying context per process, on the CA bundle httpx itself would load (built
    once even when several threads ask at the same time, as health waits do)."""
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
