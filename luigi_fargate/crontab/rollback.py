"""``crontab rollback``: undo the last migrate step (or all of them), entirely or not at all.

The crontab comes back byte for byte from the step's backup when nobody edited
it since; otherwise the lines migrate wrote are put back to what they were,
wherever they are now, keeping the other edits, provided every one of them is
still there unchanged. If one was edited or removed, nothing is done and the
lines to restore by hand are printed: never half a rollback. A DAG file is
removed (or, if that step replaced an earlier step's file, put back) only when
its content hash is still the one migrate recorded; a DAG whose files changed
since is left, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate.crontab.journal import Write, exclusive, recover, run_group
from luigi_fargate.crontab.parse import read_crontab
from luigi_fargate.crontab.secrets import redact
from luigi_fargate.crontab.state import StatePaths, file_sha256, load_state, sha256, state_bytes, unb64
from luigi_fargate.errors import UserError


@dataclass
class RollbackResult:
    steps: int
    exact: bool  # restored from the backup byte for byte (no edits since migrate)
    removed_dags: list[str]
    restored_lines: list[int]
    left_dags: list[str] = field(default_factory=list)  # "path: why" for DAG files left in place
    recovered: str | None = None


def _restore_exact(data: bytes, step: dict[str, Any]) -> bytes | None:
    """The step's backup, when the crontab is byte for byte what the step wrote."""
    if sha256(data) != step["after_sha256"]:
        return None
    backup = Path(step["backup"])
    try:
        before = backup.read_bytes()
    except OSError:
        return None  # fall back to restoring the lines
    return before if sha256(before) == step["before_sha256"] else None


def _restore_lines(data: bytes, step: dict[str, Any], crontab: Path) -> bytes:
    """Put each line the step wrote back to its original text; all of them, or refuse."""
    pieces = data.decode("utf-8", errors="surrogateescape").split("\n")
    bodies = [p[:-1] if p.endswith("\r") else p for p in pieces]
    missing = []
    for number, line in step["lines"].items():
        where = [i for i, body in enumerate(bodies) if body == line["after"]]
        if len(where) != 1:
            missing.append((number, line))
            continue
        i = where[0]
        pieces[i] = line["before"] + ("\r" if pieces[i].endswith("\r") else "")
        bodies[i] = "\0restored"  # a restored line can't match another
    if missing:
        by_hand = "\n".join(f"  (was line {n}) {redact(line['before'])}" for n, line in missing)
        raise UserError(
            f"{crontab}: {len(missing)} line(s) migrate wrote were edited or removed since; nothing was changed. "
            f"Put these back by hand (exact text in {step['backup']}), then remove their DAGs:\n{by_hand}"
        )
    return "\n".join(pieces).encode("utf-8", errors="surrogateescape")


def _dag_writes(steps: list[dict[str, Any]], keep: bool) -> tuple[list[Write], list[Write], list[str], list[str]]:
    """Stub writes, spec writes, removed paths, left "path: why"; a DAG's files go together or stay together."""
    stubs, specs, removed, left = [], [], [], []
    for step in steps:
        for dag in step["dags"]:
            files = dag["files"]
            if keep:
                left += [f"{f}: kept (--keep-dags)" for f in files if Path(f).exists()]
                continue
            why = {f: _not_ours(f, digest) for f, digest in files.items()}
            if any(why.values()):
                left += [f"{f}: {why[f] or 'kept with the rest of its DAG'}" for f in files if Path(f).exists()]
                continue
            for f in files:
                if not Path(f).exists():
                    continue
                previous = dag.get("previous", {}).get(f)
                write = Write(Path(f), unb64(previous) if previous else None)
                (stubs if f.endswith(".py") else specs).append(write)
                removed.append(f if previous is None else f"{f} (put back as the earlier step wrote it)")
    return stubs, specs, removed, left


def _not_ours(path: str, digest: str | None) -> str | None:
    current = file_sha256(path)
    if current is None or current == digest:
        return None
    if digest is None:
        return "no checksum recorded (state from an older luigi-fargate); delete it yourself if it is the migrated DAG"
    return "changed since migrate wrote it; the DAG is still in Airflow: pause or delete it"


def rollback(crontab: Path, *, state_path: Path | None = None, all_steps: bool = False,
             keep_dags: bool = False) -> RollbackResult:  # fmt: skip
    """Undo the last migrate (or all of them)."""
    paths = StatePaths.for_crontab(crontab, state_path)
    with exclusive(paths):
        recovered = recover(paths)
        if not paths.state.exists():
            raise UserError(
                f"{crontab}: no migration to roll back ({paths.state} not found); pass --state if it lives elsewhere"
            )
        state = load_state(paths)
        if not state["steps"]:
            raise UserError(f"{paths.state}: no migration steps left to roll back")
        data, _ = read_crontab(paths.crontab)
        steps = list(reversed(state["steps"])) if all_steps else [state["steps"][-1]]
        exact = True
        restored: list[int] = []
        for step in steps:
            before = _restore_exact(data, step)
            exact = exact and before is not None
            data = before if before is not None else _restore_lines(data, step, paths.crontab)
            restored += [int(n) for n in step["lines"]]
        stubs, specs, removed, left = _dag_writes(steps, keep_dags)
        state["steps"] = state["steps"][: len(state["steps"]) - len(steps)]
        state_write = Write(paths.state, state_bytes(state) if state["steps"] else None, 0o600)
        writes = [*stubs, Write(paths.crontab, data), *specs, state_write]
        run_group(paths, "rollback", writes, len(stubs), f"rollback of {len(steps)} step(s)")
    return RollbackResult(len(steps), exact, removed, sorted(restored), left, recovered)
