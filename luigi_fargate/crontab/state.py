"""The migration state: which lines each migrate step moved, and the files it wrote, by content hash.

One JSON file per crontab (``CRONTAB.luigi-fargate.json`` by default), made
of steps, one per ``migrate``; ``rollback`` takes steps off the end. Every
path in it is absolute, so rollback and status work from any directory, and
every file migrate wrote is recorded with its SHA-256, so nothing is ever
deleted that migrate didn't write (or that someone changed since).

Version 2 (this one)::

    {"version": 2, "crontab": "/abs/jobs.cron", "steps": [{
        "at": "2026-06-01T12:00:00+00:00", "mode": "comment" | "cutover",
        "backup": "/abs/jobs.cron.luigi-fargate-backup-20260601T120000Z",
        "before_sha256": "...", "after_sha256": "...",   # the crontab's bytes before/after
        "lines": {"12": {"before": "<line as it was>", "after": "<line migrate wrote>"}},
        "dags": [{"line": 12, "dag_id": "billing_reconcile",
                  "files": {"/abs/dags/billing_reconcile.json": "<sha256>", ...},
                  "previous": {"/abs/dags/...json": "<base64 of what it replaced>"}}]}]}

Version 1 files (relative paths, no file hashes) are read and converted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luigi_fargate.errors import UserError

STATE_VERSION = 2


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str | None:
    """The hash of a file's bytes, or None if it doesn't exist."""
    try:
        return sha256(Path(path).read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        return None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def absolute(path: str | Path) -> Path:
    """An absolute path without resolving symlinks (the crontab a user named stays that file)."""
    return Path(os.path.abspath(path))


@dataclass(frozen=True)
class StatePaths:
    """Where one crontab's migration bookkeeping lives (all absolute)."""

    crontab: Path
    state: Path

    @classmethod
    def for_crontab(cls, crontab: str | Path, explicit: str | Path | None = None) -> StatePaths:
        c = absolute(crontab)
        return cls(c, absolute(explicit) if explicit else c.with_name(c.name + ".luigi-fargate.json"))

    @property
    def journal(self) -> Path:
        """The intent of a migrate or rollback under way (see :mod:`luigi_fargate.crontab.journal`)."""
        return self.state.with_name(self.state.name + ".journal")


def empty_state(paths: StatePaths) -> dict[str, Any]:
    return {"version": STATE_VERSION, "crontab": str(paths.crontab), "steps": []}


def load_state(paths: StatePaths) -> dict[str, Any]:
    """The state for ``paths.crontab`` (an empty one when there is no file yet)."""
    if not paths.state.exists():
        return empty_state(paths)
    try:
        state = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{paths.state}: unreadable migration state ({exc}); restore it from a copy, or pass --state"
        ) from None
    if not isinstance(state, dict) or state.get("version") not in (1, STATE_VERSION) or not isinstance(
        state.get("steps"), list
    ):
        raise UserError(f"{paths.state}: not a luigi-fargate migration state (version {STATE_VERSION}); check --state")
    if state["version"] == 1:
        state = _from_version_1(state, paths)
    if state["crontab"] != str(paths.crontab):
        raise UserError(
            f"{paths.state}: records migrations of {state['crontab']}, not {paths.crontab}; "
            "pass the crontab it belongs to, or the right --state"
        )
    return state


def _from_version_1(old: dict[str, Any], paths: StatePaths) -> dict[str, Any]:
    """Version 1 stored paths as given (relative to where migrate ran) and no file hashes."""

    def where(p: str) -> str:
        path = Path(p)
        if path.is_absolute():
            return str(path)
        beside = paths.crontab.parent / path.name
        return str(beside if beside.exists() or not path.exists() else absolute(path))

    steps = []
    for step in old["steps"]:
        replaced = step.get("replaced", {})
        steps.append({
            **{k: step[k] for k in ("at", "mode", "before_sha256", "after_sha256")},
            "backup": where(step["backup"]),
            "lines": {n: {"before": text, "after": replaced.get(n, "")} for n, text in step["lines"].items()},
            "dags": [{"line": d["line"], "dag_id": d["dag_id"],
                      "files": {where(d["json_path"]): None, where(d["py_path"]): None}, "previous": {}}
                     for d in step["dags"]],
        })  # fmt: skip
    return {"version": STATE_VERSION, "crontab": str(paths.crontab), "steps": steps}


def state_bytes(state: dict[str, Any]) -> bytes:
    return (json.dumps(state, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class OwnedFile:
    """A DAG file a step of this crontab's state wrote."""

    path: str
    sha256: str | None  # None: written by an older version that kept no hash
    line_after: str  # the crontab line that step left for this job
    step_index: int


def owned_files(state: dict[str, Any]) -> dict[str, OwnedFile]:
    """Each DAG file of the state, as its latest step recorded it."""
    out: dict[str, OwnedFile] = {}
    for index, step in enumerate(state["steps"]):
        for dag in step["dags"]:
            after = step["lines"].get(str(dag["line"]), {}).get("after", "")
            for path, digest in dag["files"].items():
                out[path] = OwnedFile(path, digest, after, index)
    return out
