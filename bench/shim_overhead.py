"""Runner overhead: ``luigi-fargate run`` vs ``luigi --module m Task --local-scheduler`` for a trivial task.

    .venv/bin/python bench/shim_overhead.py [ROUNDS]

Both commands run the same trivial Luigi task from scratch (its output
removed before each round), alternating, in fresh processes: the cost a
container pays at start. Prints one JSON line with medians and their ratio.
Target: ratio <= 1.0 (the runner is no slower than the crontab's luigi command).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str], output: Path) -> float:
    output.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    assert output.exists()
    return elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trivial.txt"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LUIGI_FARGATE_LOCK": f"file://{tmp}/locks"}
        shim = [str(BIN / "luigi-fargate"), "run", "--allow-any", "bench.synthetic", "Trivial", "--path", str(out)]
        luigi = [str(BIN / "luigi"), "--module", "bench.synthetic", "Trivial", "--path", str(out), "--local-scheduler"]
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(timed(shim, env, out))
            theirs.append(timed(luigi, env, out))
    result = {
        "bench": "shim_overhead",
        "rounds": rounds,
        "luigi_fargate_run_median_s": round(statistics.median(ours), 3),
        "luigi_cli_median_s": round(statistics.median(theirs), 3),
        "ratio": round(statistics.median(ours) / statistics.median(theirs), 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
