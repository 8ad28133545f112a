"""Start part of the shop in containers, print the run directory, then SIGKILL ourselves:
the owner of a run dies with nothing torn down (used by test_crash_cleanup.py).

    python crashing_owner.py HOME
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from containers_helpers import shop_subset

from harness.runtime import launch


def main() -> None:
    home = Path(sys.argv[1])
    topology = shop_subset(["gateway", "users"], ["gateway -> users"])
    system = launch(topology, backend="containers", home=home)
    print(system.run_dir, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
