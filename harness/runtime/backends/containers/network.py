"""The run's private network, with a subnet of its own and a fixed address per container.

Containers reach each other by address, not by name: Podman 4.3's DNS server (aardvark-dns
1.4) drops queries while it reloads, which it does whenever a container of the network
starts or stops, so a name lookup during a chaos experiment (a container was just killed
or restarted) can hang for the resolver's 5 s timeout. Fixed addresses also survive a
restart and a reconnect, so the proxies' upstreams and the callers' URLs never change.
The network aliases stay, for people looking at the network.

Each container's MAC address is fixed too (derived from its address, as Docker used to):
a restarted container otherwise comes back at the same address with a new MAC, and its
callers keep sending to the old one until their neighbour entries expire (tens of seconds).
"""

from __future__ import annotations

import ipaddress
import random
from typing import TYPE_CHECKING

from harness.runtime.backends.containers.engine import client_settings
from harness.runtime.errors import StartupError

if TYPE_CHECKING:
    import docker
    from testcontainers.core.network import Network

__all__ = [
    "FAULT_PROXY_HOST",
    "FIRST_SERVICE_HOST",
    "create_network",
    "endpoint_config",
    "mac_address",
]

FAULT_PROXY_HOST = 2  # .1 is the bridge's gateway
FIRST_SERVICE_HOST = 10
ATTEMPTS = 20
_POOL = ipaddress.ip_network("10.192.0.0/10")  # /24 subnets are picked at random in here


def _used_subnets(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    used = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            subnet = config.get("Subnet")
            if subnet and ":" not in subnet:
                used.append(ipaddress.IPv4Network(subnet))
    return used


def create_network(
    name: str, labels: dict[str, str], *, client: docker.DockerClient
) -> tuple[Network, ipaddress.IPv4Network]:
    """Create network `name` (testcontainers `Network`) on a free /24 subnet; another run
    taking the same subnet at the same moment only costs a retry (the engine refuses
    overlapping subnets)."""
    from docker.errors import APIError
    from docker.types import IPAMConfig, IPAMPool
    from testcontainers.core.network import Network

    used = _used_subnets(client)
    rng = random.SystemRandom()
    last_error = ""
    for _ in range(ATTEMPTS):
        offset = rng.randrange(_POOL.num_addresses // 256) * 256
        subnet = ipaddress.IPv4Network((int(_POOL.network_address) + offset, 24))
        if any(subnet.overlaps(other) for other in used):
            continue
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet))])
        network = Network(
            docker_client_kw=client_settings(),
            docker_network_kw={"labels": labels, "ipam": ipam},
        )
        network.name = name
        try:
            return network.create(), subnet
        except APIError as exc:
            last_error = str(exc)
            used.append(subnet)
    raise StartupError(f"could not create network {name} on a free subnet: {last_error}")


def mac_address(address: str) -> str:
    """A locally administered MAC address made of the IPv4 `address`: 02:00:a:b:c:d."""
    octets = ipaddress.IPv4Address(address).packed
    return ":".join(f"{byte:02x}" for byte in (0x02, 0x00, *octets))


def endpoint_config(network: str, *, alias: str, address: str) -> dict[str, object]:
    """`networking_config` for a container with a fixed `address` (and MAC) and an `alias`."""
    from docker.constants import DEFAULT_DOCKER_API_VERSION
    from docker.types import EndpointConfig

    config = EndpointConfig(
        DEFAULT_DOCKER_API_VERSION,
        aliases=[alias],
        ipv4_address=address,
        mac_address=mac_address(address),
    )
    return {network: config}
