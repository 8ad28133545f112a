"""`harness toxiproxy`: serve the embedded fault proxy.

`register(main_app)` adds `toxiproxy` to the `harness` command as a plain command:
`harness toxiproxy [--host 127.0.0.1] [--port 8474] [--config FILE] [--seed N]`. `app` holds
the same single command on its own (`app()` runs it directly; tests invoke it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from harness.faultproxy.netaddr import DEFAULT_HOST, DEFAULT_PORT

__all__ = ["app", "register", "toxiproxy"]

app = typer.Typer(help="Serve the embedded Toxiproxy-compatible fault proxy.", add_completion=False)


@app.command()
def toxiproxy(
    host: Annotated[str, typer.Option(help="Host for the API to bind.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port of the API.")] = DEFAULT_PORT,
    config: Annotated[
        Path | None,
        typer.Option(help="JSON array of proxies (the /populate shape) to create at start."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for toxicity draws, jitter and slicing.")
    ] = None,
) -> None:
    """Serve a Toxiproxy-compatible API (v2.8.0) until Ctrl-C or SIGTERM."""
    from harness.faultproxy.server import ConfigError, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        serve(host=host, port=port, config=config, seed=seed)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:  # the API address: ListenError carries Go's text
        typer.echo(f"error: cannot start the API: {exc}", err=True)
        raise typer.Exit(1) from None


def register(main_app: typer.Typer) -> None:
    """Add `toxiproxy` to the `harness` command (a command with flags, not a group)."""
    main_app.command("toxiproxy")(toxiproxy)
