"""Provider verification of the reference shop running in containers (`nox -s containers`).

The same verification as `harness contracts verify --require-all-edges`, with the
containers backend, which that command does not offer yet:

    python scripts/containers/verify_contracts.py [--out runs/containers/contracts]

Exit status 0 when every provider passed and every edge has a pact, else 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from harness.contracts.render import print_result
from harness.contracts.run import run_contracts

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", type=Path, default=ROOT / "target-system" / "system.toml")
    parser.add_argument("--pacts", type=Path, default=ROOT / "contracts" / "pacts")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "containers" / "contracts")
    args = parser.parse_args()
    console = Console(highlight=False)
    result = run_contracts(
        topology=args.topology,
        pact_dir=args.pacts,
        backend="containers",
        require_all_edges=True,
        out_dir=args.out,
        progress=lambda line: console.print(line, markup=False, style="dim"),
    )
    print_result(result, console=console)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
