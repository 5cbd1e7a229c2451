"""``airflow dags test`` of an exported pipeline on the Fargate runner, with moto as ECS and a
harness that plays Fargate: it runs each started task's command through the real container
entrypoint and runner, writes the output to the task's CloudWatch stream, and stops the moto
task with the real exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

from tests.conftest import BIN, base_env, installed_entrypoint, luigi_fargate
from tests.fargate.conftest import FakeFargate, conn_env

DAG_ID = "pipeline_report"


class FargateHarness:
    """Runs each new ECS task's command as the container would, then reports its exit code."""

    def __init__(self, fake: FakeFargate, env: dict[str, str], lose_output_of: str | None = None) -> None:
        self.fake, self.env, self.lose_output_of = fake, env, lose_output_of
        self.commands: list[list[str]] = []
        self.exit_codes: list[int] = []
        self.environments: list[dict[str, str]] = []
        self._seen: set[str] = set()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._halt.wait(0.2):
            for arn, task in self.fake.tasks().items():
                if arn not in self._seen:
                    self._seen.add(arn)
                    override = task.overrides["containerOverrides"][0]
                    env = {e["name"]: e["value"] for e in override.get("environment", [])}
                    self._play(arn, override["command"], env)

    def _play(self, arn: str, command: list[str], env: dict[str, str]) -> None:
        """As Fargate would: the image's environment, the override's environment, the entrypoint."""
        self.environments.append(env)
        proc = subprocess.run(
            [str(installed_entrypoint()), *command], env={**self.env, **env}, capture_output=True, text=True, timeout=120
        )
        self.commands.append(command)
        self.exit_codes.append(proc.returncode)
        self.fake.write_logs(arn, (proc.stdout + proc.stderr).splitlines() or ["(no output)"])
        if command[1] == self.lose_output_of:  # the output disappears before the next task runs
            for path in Path(self.env["EXAMPLE_DATA_DIR"]).rglob("rates.json"):
                path.unlink()
        self.fake.stop(arn, exit_code=proc.returncode)

    def __enter__(self) -> FargateHarness:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join()


def luigi_task_ids(commands: list[list[str]]) -> set[str]:
    """Luigi's own task ids for the commands the containers ran (parsed by Luigi's parser)."""
    import importlib

    from luigi.cmdline_parser import CmdlineParser

    ids = set()
    for module, family, *args in commands:
        importlib.import_module(module)
        with CmdlineParser.global_instance([family, *args]) as parser:
            ids.add(parser.get_task_obj().task_id)
    return ids


def luigi_graph_ids(date: str) -> set[str]:
    import datetime as dt

    from examples.pipeline import Report
    from luigi_fargate.introspect.graph import walk

    return set(walk(Report(date=dt.date.fromisoformat(date))).nodes)


def _export_and_env(fargate: FakeFargate, airflow_home, tmp_path: Path, cfg_extra: str = "") -> dict[str, str]:  # noqa: ANN001
    cfg = fargate.luigi_cfg(tmp_path / "luigi.cfg", cfg_extra)
    proc = luigi_fargate(
        "export", "examples.pipeline.Report", "--date", "2026-11-01", "--runner", "fargate", "--out", str(airflow_home.dags),
        env=base_env(LUIGI_CONFIG_PATH=str(cfg)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # the container: the image's allowlist and data volume, and `luigi-fargate` on PATH
    return base_env(
        LUIGI_FARGATE_ALLOW=str(airflow_home.dags / f"{DAG_ID}.json"),
        EXAMPLE_DATA_DIR=str(tmp_path / "data"),
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )


def test_dag_on_fargate_runs_exactly_luigis_tasks_for_the_date(fargate: FakeFargate, airflow_home, tmp_path: Path) -> None:  # noqa: ANN001
    sized = "[luigi_fargate.family.ConvertToEur]\ncpu = 512\nmemory = 2048\n"
    container_env = _export_and_env(fargate, airflow_home, tmp_path, sized)
    container_env["LUIGI_FARGATE_EVENTS_FILE"] = str(tmp_path / "events.jsonl")
    with FargateHarness(fargate, container_env) as harness:
        result = airflow_home.dags_test(DAG_ID, "2026-11-01", **conn_env(fargate.endpoint))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert harness.exit_codes == [0] * 7
    assert luigi_task_ids(harness.commands) == luigi_graph_ids("2026-11-01")
    assert (tmp_path / "data" / "2026-11-01" / "report.json").exists()
    assert len(fargate.run_task_requests) == 7  # one ECS task per Luigi task, none twice
    # the run-time graph check reached every container, rendered for the run's date
    assert all('"--date=2026-11-01"' in env["LUIGI_FARGATE_GRAPH_CHECK"] for env in harness.environments), harness.environments[0]
    log = result.stdout + result.stderr
    assert "ExchangeRates" in log and "console.aws.amazon.com/cloudwatch" in log
    # Each container measured its run and knows the size RunTask asked for (#17): what `sizes suggest` reads.
    usage = [e for e in map(json.loads, (tmp_path / "events.jsonl").read_text().splitlines()) if e["event"] == "usage"]
    assert len(usage) == 7 and all(e["ran"] and e["max_rss_mb"] > 0 and e["dag_id"] == DAG_ID for e in usage), usage
    def size(cpu: object, memory: object) -> str:
        return f"{cpu or '-'}/{memory or '-'}"

    asked = sorted(size(r["overrides"].get("cpu"), r["overrides"].get("memory")) for r in fargate.run_task_requests)
    assert sorted(size(e.get("cpu"), e.get("memory")) for e in usage) == asked
    assert sorted(e["family"] for e in usage if e.get("cpu")) == ["ConvertToEur", "ConvertToEur"]
    proc = luigi_fargate("sizes", "suggest", "--events", str(tmp_path / "events.jsonl"), "--min-runs", "1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    convert = next(s for s in json.loads(proc.stdout) if s["family"] == "ConvertToEur")
    assert (convert["runs"], convert["current_cpu"], convert["current_memory"]) == (2, 512, 2048)


def test_dag_fails_with_the_runners_words_when_luigi_does(fargate: FakeFargate, airflow_home, tmp_path: Path) -> None:  # noqa: ANN001
    container_env = _export_and_env(fargate, airflow_home, tmp_path)
    with FargateHarness(fargate, container_env, lose_output_of="ExchangeRates") as harness:
        result = airflow_home.dags_test(DAG_ID, "2026-11-01", **conn_env(fargate.endpoint))
    log = result.stdout + result.stderr
    assert 4 in harness.exit_codes, harness.exit_codes
    assert "upstream incomplete: a dependency's output is missing; nothing was run" in log, log[-6000:]
    # This run's id, as the runner's task event named it.
    assert re.search(r"Luigi task ConvertToEur \(ConvertToEur_2026_11_01_", log), log[-6000:]
    assert not (tmp_path / "data" / "2026-11-01" / "report.json").exists()
