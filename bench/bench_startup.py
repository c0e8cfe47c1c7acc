"""Start-up cost: ``load_pack("rules/no")`` + ``Engine()`` over the bare import.

Runs a fresh interpreter per round (so nothing is warm): it imports the engine and
the loader, notes the CPU time, then loads the bundled pack and builds the Engine
and notes the CPU time again. Prints each round and the median of the difference
(issue 9's target: ≤ 100 ms CPU), and whether libyaml's CSafeLoader was used.

    .venv/bin/python bench/bench_startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import time
t0 = time.process_time()
from eligibility.engine import Engine
from eligibility.pack.loader import load_pack
from eligibility.pack.yamlio import WITH_LIBYAML
t1 = time.process_time()
Engine(load_pack("rules/no"))
t2 = time.process_time()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {WITH_LIBYAML}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    costs = []
    for i in range(max(1, min(args.rounds, 50))):
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
        imported, loaded, libyaml = float(out[0]), float(out[1]), out[2]
        costs.append(loaded)
        print(f"round {i + 1}: bare import {imported:6.1f} ms CPU, "
              f"load_pack + Engine {loaded:6.1f} ms CPU (libyaml: {libyaml})")
    print(f"median load_pack('rules/no') + Engine(): {statistics.median(costs):.1f} ms CPU "
          "over the bare import (target <= 100 ms)")


if __name__ == "__main__":
    main()
