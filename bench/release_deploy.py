"""Deploy and rollback wall time for a folder of many specs, against moto's server on 127.0.0.1.

    .venv/bin/python bench/release_deploy.py [SPECS]

Exports examples.pipeline.Report once with the fargate runner, copies it into
SPECS spec files (default 200), then times `deploy` (twice), `deploy --rollback`
and `task-definitions render` as fresh processes. Prints one JSON line.
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
BIN = Path(sys.executable).parent
SETTINGS = """[luigi_fargate]
region = eu-west-1
cluster = pipelines
task_definition = pipelines
container_name = luigi
subnets = subnet-0a1b2c3d4e5f60718
security_groups = sg-0123456789abcdef0
log_group = /luigi-fargate/pipelines
execution_role_arn = arn:aws:iam::123456789012:role/luigi-fargate-execution
task_role_arn = arn:aws:iam::123456789012:role/luigi-fargate-task
"""
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipelines:{}"


def main(count: int) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    work = Path(tempfile.mkdtemp(prefix="lf-bench-release-"))
    (work / "luigi.cfg").write_text(SETTINGS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUIGI", "AWS"))}
    env.update(
        LUIGI_CONFIG_PATH=str(work / "luigi.cfg"), PYTHONPATH=str(ROOT), AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
    )  # fmt: skip
    cli = str(BIN / "luigi-fargate")
    subprocess.run([cli, "export", "examples.pipeline.Report", "--date", "2026-11-01", "--runner", "fargate",
                    "--out", str(work / "export")], env=env, check=True, capture_output=True)  # fmt: skip
    spec = json.loads((work / "export" / "pipeline_report.json").read_text())
    dags = work / "dags"
    dags.mkdir()
    for i in range(count):
        (dags / f"pipeline_{i}.json").write_text(json.dumps({**spec, "dag_id": f"pipeline_{i}"}))
    times = {}
    for name, args in (
        ("render_s", ["task-definitions", "render", "--image", IMAGE.format("1")]),
        ("first_deploy_s", ["deploy", "--image", IMAGE.format("1")]),
        ("second_deploy_s", ["deploy", "--image", IMAGE.format("2")]),
        ("rollback_s", ["deploy", "--rollback"]),
    ):
        start = time.perf_counter()
        subprocess.run([cli, *args, "--dags", str(dags)], env=env, check=True, capture_output=True)
        times[name] = round(time.perf_counter() - start, 2)
    server.stop()
    print(json.dumps({"specs": count, **times}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
