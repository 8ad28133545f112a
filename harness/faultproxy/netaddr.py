"""TCP addresses the way Go's `net` package reads, binds and prints them.

A proxy's `listen` is handed to `net.Listen("tcp", listen)` by the real server, and the error
text of a failure goes to the client verbatim (`listen tcp 127.0.0.1:8474: bind: address
already in use`, `listen tcp: address not-an-addr: missing port in address`). Binding follows
Go too: an empty or wildcard host gets a dual-stack socket printed as `[::]:PORT`, a host name
binds its first IPv4 address, and listeners set SO_REUSEADDR.

Host-name lookup failures are reported as `lookup HOST: no such host`; Go's text also names
the DNS server it asked, which depends on the machine.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "AddressError",
    "ListenError",
    "format_addr",
    "listen_tcp",
    "lookup_port",
    "split_host_port",
]

LISTEN_BACKLOG = 4096

# Where the API listens unless told otherwise: Toxiproxy's own default port, on loopback.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8474


class AddressError(ValueError):
    """An address Go's `net` package rejects; `str()` is Go's error text."""


class ListenError(OSError):
    """`net.Listen` failed; `str()` is Go's error text."""


def split_host_port(hostport: str) -> tuple[str, str]:
    """Go's `net.SplitHostPort`."""

    def fail(why: str) -> AddressError:
        return AddressError(f"address {hostport}: {why}")

    i = hostport.rfind(":")
    if i < 0:
        raise fail("missing port in address")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise fail("missing ']' in address")
        if end + 1 == len(hostport):
            raise fail("missing port in address")
        if end + 1 != i:
            if hostport[end + 1] == ":":
                raise fail("too many colons in address")
            raise fail("missing port in address")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise fail("too many colons in address")
    if "[" in hostport[j:]:
        raise fail("unexpected '[' in address")
    if "]" in hostport[k:]:
        raise fail("unexpected ']' in address")
    return host, hostport[i + 1 :]


def _parse_port(service: str) -> int | None:
    """Go's `parsePort`: the number, or None when the service needs a name lookup."""
    if service == "":
        return 0
    negative = service[0] == "-"
    digits = service[1:] if service[0] in "+-" else service
    if digits == "":
        return 0  # Go reads a lone sign as port 0
    if not (digits.isascii() and digits.isdigit()):
        return None
    # Go saturates huge numbers; any value outside 0..65535 is rejected the same way.
    return -int(digits) if negative else int(digits)


def lookup_port(service: str) -> int:
    """Go's `LookupPort("tcp", service)` (numbers, or names from /etc/services)."""
    port = _parse_port(service)
    if port is None:
        try:
            port = socket.getservbyname(service.lower(), "tcp")
        except OSError:
            raise AddressError(f"lookup tcp/{service}: unknown port") from None
    if not 0 <= port <= 65535:
        raise AddressError(f"address {service}: invalid port")
    return port


def format_addr(host: str, port: int) -> str:
    """Go's `TCPAddr.String()`: IPv6 in brackets, a nil IP as the empty host."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _resolve_listen_host(host: str) -> tuple[int, str]:
    """Family and address to bind; wildcard hosts become dual-stack `::` as in Go."""
    if host == "":
        return socket.AF_INET6, "::"
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        ip = None
    if ip is not None:
        if ip.is_unspecified:
            return socket.AF_INET6, "::"
        return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET), host
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise AddressError(f"lookup {host}: no such host") from None
    v4 = [info for info in infos if info[0] == socket.AF_INET]
    family, _, _, _, sockaddr = (v4 or infos)[0]
    return family, str(sockaddr[0])


def _go_errno_text(err: OSError) -> str:
    text = os.strerror(err.errno) if err.errno else str(err)
    return text[:1].lower() + text[1:]


def _bind_socket(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def listen_tcp(address: str) -> tuple[socket.socket, str]:
    """Bind and listen like `net.Listen("tcp", address)`; returns the socket and the bound
    address as Go prints it (`127.0.0.1:34713`, `[::]:8080`). Raises `ListenError`."""
    try:
        if address == "":
            host, port = "", 0
        else:
            host, service = split_host_port(address)
            port = lookup_port(service)
        family, bind_host = _resolve_listen_host(host)
    except AddressError as exc:
        raise ListenError(f"listen tcp: {exc}") from None
    try:
        sock = _bind_socket(family, bind_host, port)
    except OSError as exc:
        shown = "" if host == "" else bind_host
        if family == socket.AF_INET6 and bind_host == "::" and host not in ("", "::"):
            shown = host  # Go keeps the 0.0.0.0 it was given in the message
        if exc.errno == errno.EAFNOSUPPORT and bind_host == "::":
            return _listen_ipv4_fallback(port)
        raise ListenError(
            f"listen tcp {format_addr(shown, port)}: bind: {_go_errno_text(exc)}"
        ) from None
    bound = sock.getsockname()
    return sock, format_addr(str(bound[0]), int(bound[1]))


def _listen_ipv4_fallback(port: int) -> tuple[socket.socket, str]:
    """Hosts without IPv6 get an IPv4 wildcard listener instead of a dual-stack one."""
    try:
        sock = _bind_socket(socket.AF_INET, "0.0.0.0", port)
    except OSError as exc:
        raise ListenError(f"listen tcp :{port}: bind: {_go_errno_text(exc)}") from None
    return sock, f"[::]:{sock.getsockname()[1]}"


def dial_target(upstream: str) -> tuple[str, int]:
    """Host and port to connect to for an upstream `host:port` (raises `AddressError`).

    An empty host means the local system, as in Go's `net.Dial`.
    """
    host, service = split_host_port(upstream)
    return (host or "127.0.0.1"), lookup_port(service)
