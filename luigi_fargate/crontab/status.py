"""``crontab status``: where each job of a crontab runs now, and whether its DAG files are what migrate wrote.

Read from the crontab, the state and the DAGs folder only (no job code). An
interrupted migrate or rollback (a journal left behind) is finished or undone
first, and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate.crontab.journal import exclusive, recover
from luigi_fargate.crontab.parse import crontab_lines, parse_crontab, read_crontab
from luigi_fargate.crontab.plan import MARKER
from luigi_fargate.crontab.secrets import redact
from luigi_fargate.crontab.state import StatePaths, file_sha256, load_state


@dataclass
class DagFileStatus:
    path: str
    verdict: str  # matches | changed | missing | unchecked (no hash in an old state)


@dataclass
class JobStatus:
    line: int
    runs_in: str  # cron | airflow | cron+airflow (cutover) | nowhere | cron+airflow
    text: str
    dag_id: str | None = None
    files: list[DagFileStatus] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "runs_in": self.runs_in, "text": redact(self.text), "dag_id": self.dag_id,
                "files": [vars(f) for f in self.files], "problem": self.problem}  # fmt: skip


@dataclass
class CrontabStatus:
    jobs: list[JobStatus]
    recovered: str | None = None
    orphans: list[str] = field(default_factory=list)  # state entries whose line is gone from the crontab


def _file_status(path: str, digest: str | None) -> DagFileStatus:
    current = file_sha256(path)
    if current is None:
        return DagFileStatus(path, "missing")
    if digest is None:
        return DagFileStatus(path, "unchecked")
    return DagFileStatus(path, "matches" if current == digest else "changed")


def _migrated_status(number: int, text: str, mode: str, dag: dict[str, Any]) -> JobStatus:
    files = [_file_status(f, d) for f, d in dag["files"].items()]
    present = all(f.verdict != "missing" for f in files)
    if mode == "cutover":
        job = JobStatus(number, "cron+airflow (cutover)" if present else "cron", text, dag["dag_id"], files)
    else:
        job = JobStatus(number, "airflow" if present else "nowhere", text, dag["dag_id"], files)
    if not present:
        job.problem = "DAG files missing: " + ", ".join(f.path for f in files if f.verdict == "missing")
    elif any(f.verdict == "changed" for f in files):
        job.problem = "DAG files changed since migrate wrote them"
    return job


def crontab_status(crontab: Path, state_path: Path | None = None) -> CrontabStatus:
    paths = StatePaths.for_crontab(crontab, state_path)
    with exclusive(paths):
        recovered = recover(paths)
        _, text = read_crontab(paths.crontab)
        state = load_state(paths)
    bodies = crontab_lines(text)
    claimed: dict[int, JobStatus] = {}
    orphans: list[str] = []
    for step in reversed(state["steps"]):  # the latest step that wrote a line speaks for it
        for dag in step["dags"]:
            after = step["lines"].get(str(dag["line"]), {}).get("after")
            where = [i + 1 for i, body in enumerate(bodies) if body == after and i + 1 not in claimed]
            if not where:
                if not any(j.dag_id == dag["dag_id"] for j in claimed.values()):
                    orphans.append(f"DAG {dag['dag_id']} (migrated from line {dag['line']}): the line migrate wrote "
                                   "is no longer in the crontab")  # fmt: skip
                continue
            claimed[where[0]] = _migrated_status(where[0], after or "", step["mode"], dag)
    jobs = []
    for line in parse_crontab(text):
        if line.number in claimed:
            jobs.append(claimed[line.number])
        elif line.kind == "job":
            jobs.append(JobStatus(line.number, "cron", line.text))
        elif line.kind == "comment" and line.text.lstrip().startswith(MARKER):
            jobs.append(JobStatus(line.number, "nowhere", line.text, problem="marked migrated, but not in the state"))
    return CrontabStatus(jobs, recovered, orphans)
