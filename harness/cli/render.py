"""Rich tables for a running system: services, edges, and the start-up summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from harness.runtime import RunningSystem

__all__ = ["edges_table", "services_table", "system_json"]


def services_table(system: RunningSystem, health: Mapping[str, str | None] | None = None) -> Table:
    table = Table(title="services", title_justify="left")
    table.add_column("service", style="bold", no_wrap=True)
    table.add_column("URL", no_wrap=True)
    table.add_column("pid", justify="right")
    table.add_column("state")
    for name, service in system.services.items():
        table.add_row(name, service.url, str(service.pid or "-"), _state(system, name, health))
    return table


def _state(system: RunningSystem, name: str, health: Mapping[str, str | None] | None) -> str:
    service = system.services[name]
    if service.managed and not system.is_alive(name):
        return "[red]dead[/red]"
    if service.paused:
        return "[yellow]paused[/yellow]"
    if health is None:
        return "[green]healthy[/green]"
    reason = health.get(name)
    return "[green]healthy[/green]" if reason is None else f"[red]unhealthy[/red] ({reason})"


def edges_table(system: RunningSystem, proxies: Mapping[str, Any] | None = None) -> Table:
    """Edges with their proxy address; with `proxies` (the server's view): state and toxics."""
    table = Table(title="edges (each through its own fault proxy)", title_justify="left")
    table.add_column("edge", style="bold", no_wrap=True)
    table.add_column("proxy", no_wrap=True)
    if proxies is None:
        table.add_column("upstream", no_wrap=True)
        table.add_column("caller's env", no_wrap=True)
    else:
        table.add_column("state", no_wrap=True)
        table.add_column("toxics")
    for edge in system.edges.values():
        row = [edge.name, edge.listen or "(no proxy)"]
        if proxies is None:
            row += [edge.upstream, edge.env_var]
        else:
            info = proxies.get(edge.proxy_name) or {}
            row.append("[green]enabled[/green]" if info.get("enabled") else "[red]disabled[/red]")
            toxics = info.get("toxics") or []
            row.append(", ".join(f"{t['type']}({t['stream']})" for t in toxics) or "-")
        table.add_row(*row)
    return table


def system_json(
    system: RunningSystem,
    *,
    health: Mapping[str, str | None] | None = None,
    proxies: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What `up --json` and `status --json` print: where everything is, for a script or a
    tool such as Chaos Toolkit (`fault_proxy.api_url` is the Toxiproxy API)."""
    services: dict[str, Any] = {}
    for name, service in system.services.items():
        entry: dict[str, Any] = {
            "url": service.url,
            "pid": service.pid,
            "managed": service.managed,
            "paused": service.paused,
        }
        if health is not None:
            entry["healthy"] = health.get(name) is None
            entry["problem"] = health.get(name)
        services[name] = entry
    edges: dict[str, Any] = {}
    for edge in system.edges.values():
        entry = {
            "proxy": edge.proxy_name,
            "listen": edge.listen,
            "url": edge.url,
            "upstream": edge.upstream,
            "env_var": edge.env_var,
        }
        if proxies is not None:
            info = proxies.get(edge.proxy_name) or {}
            entry["enabled"] = bool(info.get("enabled"))
            entry["toxics"] = list(info.get("toxics") or [])
        edges[edge.name] = entry
    state = system.state
    return {
        "run_dir": str(system.run_dir),
        "backend": state.backend,
        "status": state.status,
        "fault_proxy": {"api_url": system.fault_proxy_url},
        "services": services,
        "edges": edges,
    }
