"""`make demo`: export the example pipeline and run it through real Airflow with the local runner.

Everything lands in ./demo-out (recreated each time): a throwaway AIRFLOW_HOME
on SQLite, the exported DAG files, the Luigi outputs, and the runner's event log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from luigi_fargate.spec import PipelineSpec

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
DATE = "2026-11-01"
BIN = Path(sys.executable).parent
console = Console(width=max(Console().width, 170))


def sh(cmd: list[str], env: dict[str, str], log: Path) -> None:
    console.print(f"[bold]$ {' '.join(cmd)}[/]")
    with log.open("w") as fh:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        console.print(log.read_text()[-4000:])
        console.print(f"[red]failed (exit {proc.returncode}); full log: {log}[/]")
        raise SystemExit(proc.returncode)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "logs").mkdir(parents=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(OUT / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(OUT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "EXAMPLE_DATA_DIR": str(OUT / "data"),
        "LUIGI_FARGATE_EVENTS_FILE": str(OUT / "events.jsonl"),
        "LUIGI_FARGATE_LOCK": f"file://{OUT / 'locks'}",
    }
    sh([str(BIN / "luigi-fargate"), "export", "examples.pipeline.Report", "--date", DATE, "--out", str(OUT / "dags")], env, OUT / "logs/export.log")
    console.print((OUT / "logs/export.log").read_text().strip())
    sh([str(BIN / "airflow"), "db", "migrate"], env, OUT / "logs/db-migrate.log")
    sh([str(BIN / "airflow"), "dags", "test", "pipeline_report", DATE], env, OUT / "logs/dags-test.log")

    spec = PipelineSpec.load(OUT / "dags/pipeline_report.json")
    events = [json.loads(line) for line in (OUT / "events.jsonl").read_text().splitlines()]
    ran = {e["task_id"]: e for e in events if e["event"] == "done"}

    sys.path.insert(0, str(ROOT))
    os.environ["EXAMPLE_DATA_DIR"] = env["EXAMPLE_DATA_DIR"]
    from luigi.task import flatten
    from luigi.task_register import load_task

    table = Table(title=f"Luigi tasks run by Airflow DAG pipeline_report for {DATE} (local runner)")
    for col in ("order", "Airflow task", "Luigi task id", "ran", "output"):
        table.add_column(col)
    order = sorted(ran, key=lambda t: ran[t]["ts"])
    rank = {tid: i for i, tid in enumerate(order)}
    for node in sorted(spec.tasks, key=lambda n: rank.get(n.task_id, len(rank))):
        task = load_task(node.module, node.family, {p.name: p.value for p in node.params})
        outputs = ", ".join(os.path.relpath(t.path, ROOT) for t in flatten(task.output()))
        done = node.task_id in ran
        table.add_row(
            str(order.index(node.task_id) + 1) if done else "-",
            node.id,
            node.task_id,
            "[green]yes[/]" if done else "[red]no[/]",
            outputs,
        )
    console.print(table)
    report = OUT / "data" / DATE / "report.json"
    console.print(f"report: {os.path.relpath(report, ROOT)}\n{report.read_text()}")
    console.print(f"Airflow log: {os.path.relpath(OUT / 'logs/dags-test.log', ROOT)}")
    if len(ran) != len(spec.tasks):
        raise SystemExit("not every Luigi task ran")


if __name__ == "__main__":
    main()
