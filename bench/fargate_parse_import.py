"""What the Fargate runner adds to DAG parsing: importing the Amazon provider's operator (and boto3).

    .venv/bin/python bench/fargate_parse_import.py [ROUNDS]

Each round is a fresh interpreter that imports ``airflow.sdk`` and the DAG
builder first (every DAG pays that), then times importing
``airflow_bridge.operators.fargate``. Prints one JSON line with the median.
Local-runner DAGs never pay this: ``operator_for`` imports the module only for
Fargate specs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

PROBE = (
    "import time, sys; import airflow.sdk, airflow_bridge.dag_builder; assert 'boto3' not in sys.modules; "
    "t = time.perf_counter(); import airflow_bridge.operators.fargate; print(time.perf_counter() - t)"
)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times = [float(subprocess.check_output([sys.executable, "-c", PROBE], text=True)) for _ in range(rounds)]
    print(json.dumps({"fargate_operator_import_s_median": round(statistics.median(times), 3), "rounds": rounds}))


if __name__ == "__main__":
    main()
