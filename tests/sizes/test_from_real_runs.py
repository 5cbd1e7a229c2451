"""From real runs to a size: the runner's usage events, read by ``sizes suggest`` (issue #17, items 1 and 2 together).

Real runner processes hold known memory while mostly waiting (as a task
waiting on a database does): 10 s idle against about 1 s of CPU (Python's
start, Luigi's import, faulting in 550 MiB) keeps the CPU they use well
below a quarter vCPU with headroom on a loaded machine too, so the memory
alone decides the size. (1,100 MiB took 2.4 s of CPU under load: 0.22
vCPU, which the headroom lifts over a quarter.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from luigi_fargate.spec.runner_log import USAGE_EVENT
from tests.conftest import BIN, base_env, luigi_fargate

MODULE = "tests.shim.runner_tasks"
RUNS_PER_SIZE = 2


def test_sizes_suggest_picks_the_fargate_size_that_real_runs_need(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    (tmp_path / "data").mkdir()
    env = base_env(RUNNER_TASKS_DATA=str(tmp_path / "data"), RUNNER_TASKS_LEDGER=str(tmp_path / "ledger.txt"),
                   LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}", LUIGI_FARGATE_EVENTS_FILE=str(events))  # fmt: skip
    runs = [
        subprocess.Popen([str(BIN / "luigi-fargate"), "run", "--allow-any", MODULE, "Uses", f"--name=r{mb}-{i}", f"--mb={mb}",
                          "--idle=10"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        for mb in (550, 40) for i in range(RUNS_PER_SIZE)
    ]
    for proc in runs:
        assert proc.wait(120) == 0, proc.stderr.read() if proc.stderr else ""
    usage = [e for e in map(json.loads, events.read_text().splitlines()) if e["event"] == USAGE_EVENT]
    held = sorted((e["params"]["mb"], e["max_rss_mb"]) for e in usage)
    assert len(held) == 2 * RUNS_PER_SIZE
    baseline = min(rss for mb, rss in held if mb == "40") - 40  # what Python and Luigi take
    assert all(abs(rss - (int(mb) + baseline)) <= 0.1 * (int(mb) + baseline) for mb, rss in held), held

    proc = luigi_fargate("sizes", "suggest", "--events", str(events), "--min-runs", str(RUNS_PER_SIZE), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    sizes = {s["pattern"]: (s["runs"], s["suggested_cpu"], s["suggested_memory"]) for s in json.loads(proc.stdout)}
    # 550 MiB + what Python and Luigi take (~45 MiB), x 1.25: 1 GB, the smallest Fargate memory above it at 0.25 vCPU;
    # 40 MiB + ~45 MiB, x 1.25: the smallest Fargate size.
    assert sizes == {"mb=550": (RUNS_PER_SIZE, 256, 1024), "mb=40": (RUNS_PER_SIZE, 256, 512)}, proc.stdout
