"""Time ``luigi-fargate verify``: a year of run dates of a synthetic date-bound graph.

    .venv/bin/python bench/verify.py [N ...]      (default: 1000 10000)

bench/synthetic.py's graph (four families, diamonds, ~2 upstream edges per
task), its root bound to the run date so every task moves with it: each of
the 365 run dates is a full walk of Luigi's graph for that date (deps() only)
and the comparison with the DAG's tasks for the date. Prints one JSON line.
Target on a 2-core machine: 365 dates of a 1,000-task graph in under 60 s.
``verify_cpu_s`` counts the forked walkers too (verify walks in up to four
processes once it has 16 distinct run dates).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERIFY = """
import datetime as dt, json, resource, sys, tempfile, time
from luigi_fargate.export.api import export_pipeline
from luigi_fargate.export.builder import ExportOptions
from luigi_fargate.introspect.verify import run_instants, verify_dates
from luigi_fargate.spec import PipelineSpec
import bench.synthetic
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    r = export_pipeline("bench.synthetic", "Root", ["--total", sys.argv[1]], ExportOptions(), out)
    t1 = time.perf_counter()
    spec = PipelineSpec.load(r.json_path)
    runs = run_instants(spec, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    def cpu():  # this process and the forked walkers
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + c.ru_utime + c.ru_stime
    c0, t2 = cpu(), time.perf_counter()
    differing = verify_dates(spec, runs)
    t3, c1 = time.perf_counter(), cpu()
print(json.dumps({"tasks": len(spec.tasks), "runs": len(runs), "differing": len(differing), "export_s": t1 - t0,
                  "verify_s": t3 - t2, "verify_cpu_s": c1 - c0}))
"""


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    figures = {}
    for n in sizes:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", VERIFY, str(n)], env=env, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        figures[str(n)] = {
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()},
            "ms_per_run": round(r["verify_s"] / r["runs"] * 1000, 1),
        }
    print(json.dumps({"bench": "verify", "sizes": figures}))


if __name__ == "__main__":
    main()
