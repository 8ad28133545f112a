"""`python -m harness.faultproxy [-host H] [-port P] [-config FILE] [-seed N]`.

The flags mirror the real server's (single dash, Go style, also `-port=8474`); the usual
double-dash forms work too. The host defaults to 127.0.0.1 (the real server's `localhost`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from harness.faultproxy.netaddr import DEFAULT_HOST, DEFAULT_PORT
from harness.faultproxy.server import ConfigError, serve

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m harness.faultproxy",
        description="Toxiproxy-compatible fault proxy (API v2.8.0).",
    )
    parser.add_argument("-host", "--host", default=DEFAULT_HOST, help="API host to bind")
    parser.add_argument("-port", "--port", type=int, default=DEFAULT_PORT, help="API port")
    parser.add_argument(
        "-config", "--config", default=None, help="JSON file of proxies to create at start"
    )
    parser.add_argument(
        "-seed", "--seed", type=int, default=None, help="seed for toxicity, jitter and slicing"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        serve(host=args.host, port=args.port, config=args.config, seed=args.seed)
    except ConfigError as exc:
        logging.getLogger("harness.faultproxy").error("%s", exc)
        return 2
    except OSError as exc:  # the API address: ListenError carries Go's text
        logging.getLogger("harness.faultproxy").error("cannot start the API: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
