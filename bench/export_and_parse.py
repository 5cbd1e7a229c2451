"""Time export (Luigi graph -> spec) and DAG build (spec -> Airflow DAG) for synthetic graphs.

    .venv/bin/python bench/export_and_parse.py [N ...]

Prints one JSON line. ``export_s`` walks one graph (``--no-bind``);
``export_date_bound_s`` binds the root's date to the run date, for which
export walks the graph for three dates to learn how parameters move. Targets on a 2-core machine: a 10,000-task graph
exported in <= 3 s; a 2,000-task DAG built from its spec in <= 0.5 s beyond
the bare Airflow import; time linear in N.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORT = """
import json, sys, time
t0 = time.perf_counter()
from luigi_fargate.export.api import export_pipeline
from luigi_fargate.export.builder import ExportOptions
import bench.synthetic
t1 = time.perf_counter()
bindings = None if sys.argv[3] == "bound" else {}
r = export_pipeline("bench.synthetic", "Root", ["--total", sys.argv[1]], ExportOptions(bindings=bindings), sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"tasks": len(r.spec.tasks), "import_s": t1 - t0, "export_s": t2 - t1}))
"""
BUILD = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk, airflow.providers.standard.operators.empty
from airflow.sdk import DAG, BaseOperator
t1 = time.perf_counter()
from airflow_bridge import dag_from_spec
dag = dag_from_spec(sys.argv[1])
t2 = time.perf_counter()
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"luigi", "boto3", "botocore", "bench"})
print(json.dumps({"tasks": len(dag.task_ids), "airflow_import_s": t1 - t0, "build_s": t2 - t1, "heavy_imports": heavy}))
"""


def run(code: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 2000, 5000, 10000]
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            out = Path(tmp) / str(n)
            wall = time.perf_counter()
            exp = run(EXPORT, str(n), str(out), "fixed")
            exp["cli_wall_s"] = time.perf_counter() - wall
            bound = run(EXPORT, str(n), str(Path(tmp) / f"{n}-bound"), "bound")
            build = run(BUILD, str(out / "synthetic_root.json"))
            figures[str(n)] = {
                "tasks": exp["tasks"],
                "export_s": round(exp["export_s"], 3),
                "export_wall_s": round(exp["cli_wall_s"], 3),
                "export_date_bound_s": round(bound["export_s"], 3),
                "dag_build_s": round(build["build_s"], 3),
                "airflow_import_s": round(build["airflow_import_s"], 3),
                "dag_build_us_per_task": round(build["build_s"] / exp["tasks"] * 1e6, 1),
                "export_us_per_task": round(exp["export_s"] / exp["tasks"] * 1e6, 1),
                "parse_heavy_imports": build["heavy_imports"],
            }
    print(json.dumps({"bench": "export_and_parse", "sizes": figures}))


if __name__ == "__main__":
    main()
