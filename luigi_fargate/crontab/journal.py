"""Crash-safe groups of file writes: a journal first, then the writes in order, then no journal.

A migrate writes a backup, DAG files, the state and the crontab; a rollback
removes DAG files and writes the crontab and the state. Each write is atomic
(:func:`luigi_fargate.atomic_file.write_atomically`), but the group is not,
so before the first write the whole intent (every path, its content before
and after, and which write is the point of no return) goes into a journal
file next to the state. If the process dies (SIGKILL, power loss), the next
``crontab migrate``, ``rollback`` or ``status`` finds the journal and either
finishes the group (the point of no return was passed) or undoes it.
SIGINT and SIGTERM are held during the writes: before the point of no
return they undo the group, after it they let it finish; either way the
command then stops with exit 130 or 143.

The point of no return is the crontab write, and writes are ordered so that
a job never runs in two places: a migrate writes the DAG's ``.py`` stub (the
file Airflow discovers) only after the crontab, a rollback removes it before
the crontab. A crash can at worst leave a job in neither place until the next
command finishes the group.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luigi_fargate.atomic_file import write_atomically
from luigi_fargate.crontab.state import StatePaths, b64, file_sha256, sha256, unb64
from luigi_fargate.errors import UserError

JOURNAL_VERSION = 1
#: Test hook: ``K:SIGNAL`` makes the process send itself SIGNAL just before write step K
#: (0 is the journal, 1..n the writes, n+1 removing the journal). Used by the kill tests.
CRASH_ENV = "LUIGI_FARGATE_CRONTAB_CRASH_AT"


@dataclass
class Write:
    """One file of the group: its new bytes (None: delete it), and its mode if it is created."""

    path: Path
    after: bytes | None
    mode: int = 0o644


class Interrupted(UserError):
    """SIGINT/SIGTERM arrived during the writes; the group was undone or finished first."""


@contextlib.contextmanager
def exclusive(paths: StatePaths, wait_seconds: float = 10.0) -> Iterator[None]:
    """One crontab command at a time in the state's folder (the kernel drops the lock if the holder dies).

    The lock is taken on the folder itself: the crontab and the state are
    replaced by new files on every write, so a lock on them would not hold,
    and a lock file of our own would be left behind.
    """
    folder = paths.state.parent
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise UserError(f"{folder}: can't open the crontab's folder ({exc.strerror}); check the path") from None
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UserError(
                        f"{paths.crontab}: another `luigi-fargate crontab` command is working in {folder}; "
                        "wait for it to finish, then try again"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


class _HeldSignals:
    """SIGINT and SIGTERM recorded instead of acted on; the previous handlers come back on exit."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _HeldSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._record)
        return self

    def _record(self, signum: int, frame: Any) -> None:
        self.pending = self.pending or signum

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _crash_hook(step: int) -> None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    at, _, name = spec.partition(":")
    if at.isdigit() and int(at) == step:
        os.kill(os.getpid(), getattr(signal, name or "SIGKILL"))


def _entry(w: Write) -> dict[str, Any]:
    before = w.path.read_bytes() if w.path.exists() else None
    return {
        "path": str(w.path), "mode": w.mode,
        "before_sha256": None if before is None else sha256(before), "before": None if before is None else b64(before),
        "after_sha256": None if w.after is None else sha256(w.after), "after": None if w.after is None else b64(w.after),
    }  # fmt: skip


def run_group(paths: StatePaths, op: str, writes: list[Write], commit: int, what: str) -> None:
    """Apply ``writes`` in order, journaled; ``commit`` is the index of the point of no return."""
    journal = {
        "version": JOURNAL_VERSION, "op": op, "what": what, "pid": os.getpid(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": commit,
        "writes": [_entry(w) for w in writes],
    }  # fmt: skip
    with _HeldSignals() as held:
        _crash_hook(0)
        write_atomically(paths.journal, json.dumps(journal).encode("utf-8"), new_file_mode=0o600)
        for index, entry in enumerate(journal["writes"]):
            _crash_hook(index + 1)
            if held.pending and index <= commit:
                _undo(journal)
                paths.journal.unlink(missing_ok=True)
                raise Interrupted(f"interrupted by {signal.Signals(held.pending).name}: {what} undone, nothing changed",
                                  128 + held.pending)  # fmt: skip
            _apply(entry, entry["after"])
        _crash_hook(len(writes) + 1)
        paths.journal.unlink()
    if held.pending:
        raise Interrupted(f"interrupted by {signal.Signals(held.pending).name} after the point of no return: "
                          f"{what} finished first", 128 + held.pending)  # fmt: skip


def _apply(entry: dict[str, Any], content: str | None) -> None:
    path = Path(entry["path"])
    if content is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, unb64(content), new_file_mode=entry["mode"])


def _left_temporaries(journal: dict[str, Any]) -> None:
    """Temporary files of an atomic write that a SIGKILL cut short (``.NAME.*.tmp``)."""
    for entry in journal["writes"]:
        path = Path(entry["path"])
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            tmp.unlink(missing_ok=True)


def _undo(journal: dict[str, Any]) -> list[str]:
    """Put back every file the group changed; a file someone changed since is left (and named)."""
    left = []
    for entry in reversed(journal["writes"]):
        now = file_sha256(entry["path"])
        if now == entry["before_sha256"]:
            continue
        if now == entry["after_sha256"]:
            _apply(entry, entry["before"])
        else:
            left.append(f"left {entry['path']}: changed by someone else since")
    return left


def _finish(journal: dict[str, Any]) -> list[str]:
    left = []
    for entry in journal["writes"]:
        now = file_sha256(entry["path"])
        if now == entry["after_sha256"]:
            continue
        if now == entry["before_sha256"]:
            _apply(entry, entry["after"])
        else:
            left.append(f"left {entry['path']}: changed by someone else since")
    return left


def pending_group(paths: StatePaths) -> dict[str, Any] | None:
    """The journal of an interrupted migrate or rollback, if there is one."""
    try:
        journal = json.loads(paths.journal.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{paths.journal}: unreadable journal ({exc}); restore the crontab from its backup by hand") from None
    if not isinstance(journal, dict) or journal.get("version") != JOURNAL_VERSION:
        raise UserError(f"{paths.journal}: not a luigi-fargate journal (version {JOURNAL_VERSION})")
    return journal


def recover(paths: StatePaths) -> str | None:
    """Finish or undo an interrupted migrate/rollback (call under :func:`exclusive`); what was done, or None."""
    journal = pending_group(paths)
    if journal is None:
        return None
    _left_temporaries(journal)
    commit = journal["writes"][journal["commit"]]
    now = file_sha256(commit["path"])
    if now not in (commit["before_sha256"], commit["after_sha256"]):
        raise UserError(
            f"{paths.crontab}: changed since a {journal['op']} was interrupted ({paths.journal}); "
            f"compare it with its backup, then delete the journal"
        )
    finish = journal["op"] == "rollback" or now == commit["after_sha256"]
    left = _finish(journal) if finish else _undo(journal)
    paths.journal.unlink()
    done = "finished" if finish else "undone"
    extra = "; " + "; ".join(left) if left else ""
    return f"an interrupted {journal['op']} from {journal['started']} ({journal['what']}) was {done}{extra}"
