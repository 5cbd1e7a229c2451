"""Time ``luigi-fargate cost`` on a synthetic history, and check its total against a hand computation.

    .venv/bin/python bench/cost.py [N ...]      (default: 10000)

N task instance tries (a tenth of them retried once, so the retry's first
try is billed too; durations from 5 s, under the one-minute minimum, to two
hours) of four Fargate tasks in two DAGs: x86 and Spot, three teams, one
sensor that isn't priced. The expected total is computed here apart from
luigi_fargate's code, in integers (millionths of a dollar times 1024 × 3600
× 10), and must equal the command's total to the cent. Prints one JSON line.
Target on a 2-core machine: 10,000 tries in under 5 s (the command in-process,
reading the history file and the specs included).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: (dag_id, Airflow task id, family, cpu units, memory MiB, Spot?, team); "sensor" tasks are not priced.
TASKS = (
    ("ledger", "convert", "ConvertToEur", 1024, 3072, False, "ledger"),
    ("ledger", "report", "Report", 256, 512, False, "ledger"),
    ("ledger", "wait", "ExternalRates", 256, 512, False, "sensor"),
    ("growth", "train", "Train", 4096, 16384, True, "ml"),
    ("growth", "score", "Score", 2048, 4096, False, "growth"),
)
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
#: us-east-1 defaults as integers: millionths of a dollar per vCPU-hour and per GB-hour; Spot pays 3/10.
VCPU_HOUR_MICRO, GB_HOUR_MICRO, SPOT_TENTHS = 40480, 4445, 3


def write_specs(folder: Path) -> None:
    from luigi_fargate.spec import FargateRunner, FargateSize, NodeKind, PipelineSpec, TaskNode, TaskSettings
    from luigi_fargate.spec.kinds import Capacity

    for dag_id in sorted({t[0] for t in TASKS}):
        nodes = []
        for dag, task_id, family, cpu, memory, spot, team in TASKS:
            if dag != dag_id:
                continue
            kind = NodeKind.EXTERNAL if team == "sensor" else NodeKind.TASK
            settings = TaskSettings(owner=f"{team}@example.com", tags={} if team == "sensor" else {"team": team},
                                    capacity=Capacity.FARGATE_SPOT if spot else None)  # fmt: skip
            nodes.append(TaskNode(task_id, f"{family}_x", "pipeline", family, kind=kind, settings=settings, size=FargateSize(cpu, memory)))
        runner = FargateRunner("c", "us-east-1", "luigi-fargate", "luigi", ["subnet-12345678"], ["sg-12345678"], tags={"cost-center": "42"})
        spec = PipelineSpec(dag_id=dag_id, root=nodes[0].id, tasks=nodes, runner=runner)
        (folder / f"{dag_id}.json").write_text(spec.to_json())


def history_rows(n: int, seed: int = 17) -> list[dict[str, object]]:
    """``n`` tries over 30 days; the duration in whole milliseconds, as Airflow stores microseconds."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    run = 0
    while len(rows) < n:
        dag, task_id = rng.choice(TASKS)[:2]
        run += 1
        start = START + dt.timedelta(seconds=rng.randrange(30 * 86400))
        tries = 2 if rng.random() < 0.1 and len(rows) + 2 <= n else 1
        for number in range(1, tries + 1):
            millis = rng.choice((5_000, 59_999, 60_000, 60_001)) if rng.random() < 0.2 else rng.randrange(1, 7_200_000)
            end = start + dt.timedelta(milliseconds=millis)
            state = "success" if number == tries else "failed"
            rows.append({"dag_id": dag, "task_id": task_id, "run_id": f"scheduled__{run}", "try_number": number, "map_index": -1,
                         "start_date": start.isoformat(), "end_date": end.isoformat(), "state": state})  # fmt: skip
            start = end + dt.timedelta(seconds=30)
    return rows


def hand_total_cents(rows: list[dict[str, object]]) -> int:
    """The expected total in cents, rounded half up once, in integers only."""
    sizes = {(t[0], t[1]): t for t in TASKS}
    numerator = 0
    for row in rows:
        dag, task_id, _, cpu, memory, spot, team = sizes[(str(row["dag_id"]), str(row["task_id"]))]
        if team == "sensor":
            continue
        millis = (dt.datetime.fromisoformat(str(row["end_date"])) - dt.datetime.fromisoformat(str(row["start_date"]))) // dt.timedelta(milliseconds=1)
        seconds = max(60, (millis + 999) // 1000)
        numerator += seconds * (cpu * VCPU_HOUR_MICRO + memory * GB_HOUR_MICRO) * (SPOT_TENTHS if spot else 10)
    denominator = 1024 * 3600 * 10 * 1_000_000 // 100  # to cents
    return (2 * numerator + denominator) // (2 * denominator)


def run_cost(folder: Path, history: Path) -> tuple[dict[str, object], float]:
    """``luigi-fargate cost`` in this process (JSON), and how long it took."""
    from luigi_fargate.cli import main

    out = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out):
        code = main(["cost", str(folder), "--history", str(history), "--format", "json"])
    elapsed = time.perf_counter() - started
    assert code == 0, code
    return json.loads(out.getvalue()), elapsed


def setup(folder: Path, n: int) -> tuple[Path, int]:
    rows = history_rows(n)
    write_specs(folder)
    history = folder / "history.jsonl"
    history.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return history, hand_total_cents(rows)


def main(sizes: list[int]) -> None:
    import os
    import tempfile

    os.environ.setdefault("LUIGI_CONFIG_PATH", str(ROOT / "tests" / "fixtures" / "empty-luigi.cfg"))
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            history, expected = setup(Path(tmp), n)
            report, elapsed = run_cost(Path(tmp), history)
            total_cents = round(float(report["total_usd"]) * 100)  # type: ignore[arg-type]
            print(json.dumps({"tries": n, "seconds": round(elapsed, 3), "total_usd": report["total_usd"],
                              "hand_total_usd": f"{expected / 100:.2f}", "equal": total_cents == expected}))  # fmt: skip
            assert total_cents == expected and elapsed < 5, (report["total_usd"], expected, elapsed)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000])
