"""Point every exported spec at a new task definition revision, all or nothing.

Order matters: validate everything (configuration, every spec), register the
revision, then rewrite the specs one by one, each atomically (Airflow's
dag-processor sees the old file or the new one, never a part), then append to
the deploy history. If anything fails part-way, the files already rewritten
are put back byte for byte and the unused revision is deregistered, so the
folder is never half-deployed.

The history (``.luigi-fargate-deploys.json`` next to the specs; the
dag-processor ignores it) records, per spec, which revision it came from, so
``deploy --rollback`` can go back one release at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate import atomic_file
from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.release import taskdef
from luigi_fargate.release.settings import ReleaseSettings
from luigi_fargate.release.specs import is_fargate, load_dir
from luigi_fargate.spec import SpecFile

HISTORY_FILE = ".luigi-fargate-deploys.json"

Say = Callable[[str], None]


@dataclass
class DeployResult:
    task_definition: str
    changed: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # file name -> (from, to)
    untouched: list[str] = field(default_factory=list)


@contextmanager
def _exclusive(dags_dir: Path) -> Iterator[None]:
    """One deploy or rollback per folder at a time (two would interleave their rewrites).

    The lock is on the folder itself, so no lock file lands among the DAG files.
    """
    fd = os.open(dags_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{dags_dir}: another deploy or rollback is running on this folder; wait for it and retry") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def read_history(dags_dir: Path) -> list[dict[str, Any]]:
    path = dags_dir / HISTORY_FILE
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["deploys"]
        if not isinstance(entries, list):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{path}: not a luigi-fargate deploy history; restore it from version control or remove it") from None
    return entries


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _task_definition(sf: SpecFile) -> str | None:
    return sf.spec.runner.task_definition if is_fargate(sf) else None  # type: ignore[union-attr]


def _with_runner(sf: SpecFile, task_definition: str | None, previous: str | None) -> str:
    """The spec's text pointing at ``task_definition``, remembering ``previous`` for rollback."""
    runner = dataclasses.replace(
        sf.spec.runner,  # type: ignore[arg-type]
        task_definition=task_definition or sf.spec.runner.task_definition,  # type: ignore[union-attr]
        previous_task_definition=previous,
    )
    return dataclasses.replace(sf.spec, runner=runner).to_json()


class _Terminated(Exception):
    """SIGTERM arrived while specs were being rewritten."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception while rewriting, so the restore below still runs (SIGKILL can't be caught)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _rewrite_all(dags_dir: Path, plan: list[tuple[SpecFile, str]], history: list[dict[str, Any]]) -> None:
    """Write each planned file, then the history; on any failure put every written file back."""
    with _sigterm_raises():
        _rewrite_or_restore(dags_dir, plan, history)


def _rewrite_or_restore(dags_dir: Path, plan: list[tuple[SpecFile, str]], history: list[dict[str, Any]]) -> None:
    written: list[SpecFile] = []
    try:
        for sf, text in plan:
            written.append(sf)  # first: an interruption right after the rename must still restore it
            atomic_file.write_atomically(sf.path, text)
        atomic_file.write_atomically(dags_dir / HISTORY_FILE, json.dumps({"deploys": history}, indent=1) + "\n")
    except BaseException as exc:
        unrestored = []
        for sf in reversed(written):
            try:
                atomic_file.write_atomically(sf.path, sf.text)
            except OSError:
                unrestored.append(sf.path.name)
        if unrestored:
            raise UserError(
                f"{dags_dir}: rewriting specs failed ({exc}) and {', '.join(unrestored)} could not be restored; "
                "restore them from version control"
            ) from exc
        if isinstance(exc, OSError | _Terminated):
            code = ExitCode.TERMINATED if isinstance(exc, _Terminated) else ExitCode.BAD_INVOCATION
            raise UserError(f"{dags_dir}: can't rewrite the specs ({exc}); nothing was changed", code) from exc
        raise


def deploy(
    dags_dir: str | Path,
    image: str,
    settings: ReleaseSettings,
    release: str | None = None,
    ecs: Any = None,
    say: Say = print,
) -> DeployResult:
    """Register a revision for ``image`` and point every fargate spec in ``dags_dir`` at it."""
    root = Path(dags_dir)
    task_definition = taskdef.render(settings, image, release)  # validates image and release first
    with _exclusive(_existing(root)):
        specs = load_dir(root)
        fargate = taskdef.check_specs_agree(settings, specs)
        if not fargate:
            raise UserError(
                f"--dags {str(dags_dir)!r}: no spec uses the fargate runner, nothing to deploy; "
                "export with --runner fargate"
            )
        history = read_history(root)
        ecs = ecs if ecs is not None else taskdef.ecs_client(settings.region)
        arn = taskdef.register(task_definition, ecs)
        result = DeployResult(arn)
        plan = []
        for sf in specs:
            if is_fargate(sf):
                old = _task_definition(sf)
                plan.append((sf, _with_runner(sf, arn, old)))
                result.changed[sf.path.name] = (old, arn)
            else:
                result.untouched.append(sf.path.name)
        entry = {
            "id": 1 + max((e.get("id", 0) for e in history), default=0),
            "action": "deploy",
            "at": _now(),
            "image": image,
            "release": task_definition["tags"][0]["value"],
            "task_definition": arn,
            "specs": {name: {"from": old, "to": new} for name, (old, new) in result.changed.items()},
        }
        try:
            _rewrite_all(root, plan, [*history, entry])
        except BaseException:
            _deregister_quietly(ecs, arn)
            raise
    say(f"registered {arn} (image {image}, release {entry['release']}; runs size themselves: {taskdef.size_summary(fargate)})")
    for name, (old, new) in result.changed.items():
        say(f"  {name}: {old or '(none)'} -> {new}")
    for name in result.untouched:
        say(f"  {name}: local runner, left untouched")
    return result


def rollback(dags_dir: str | Path, ecs_for_region: Callable[[str], Any] | None = None, say: Say = print) -> DeployResult:
    """Undo the latest deploy not yet rolled back: each spec goes back to the revision it came from."""
    root = Path(dags_dir)
    with _exclusive(_existing(root)):
        history = read_history(root)
        target = next((e for e in reversed(history) if e.get("action") == "deploy" and not e.get("rolled_back_at")), None)
        if target is None:
            raise UserError(f"{root / HISTORY_FILE}: no deploy left to roll back; nothing was changed")
        specs = {sf.path.name: sf for sf in load_dir(root)}
        result = DeployResult(task_definition=target["task_definition"])
        plan = []
        for name, move in target["specs"].items():
            sf = specs.get(name)
            if sf is None:
                say(f"  {name}: no longer in {root}, skipped")
                continue
            if _task_definition(sf) != move["to"]:
                say(f"  {name}: changed since deploy {target['id']} (now {_task_definition(sf)}), left as is")
                result.untouched.append(name)
                continue
            plan.append((sf, _with_runner(sf, move["from"], move["to"])))
            result.changed[name] = (move["to"], move["from"])
        _check_still_registered({prev for _, prev in result.changed.values() if prev}, ecs_for_region)
        target["rolled_back_at"] = _now()
        entry = {
            "id": 1 + max(e.get("id", 0) for e in history),
            "action": "rollback",
            "at": target["rolled_back_at"],
            "of": target["id"],
            "specs": {name: {"from": old, "to": new} for name, (old, new) in result.changed.items()},
        }
        _rewrite_all(root, plan, [*history, entry])
    say(f"rolled back deploy {target['id']} ({target['task_definition']})")
    for name, (old, new) in result.changed.items():
        say(f"  {name}: {old} -> {new or '(none)'}")
    bare = sorted({new for _, new in result.changed.values() if new and ":" not in new})
    for family in bare:
        say(
            f"  note: {family!r} names no revision, so ECS runs the family's latest ACTIVE revision "
            f"(still {target['task_definition']} unless you deregister it or deploy another image)"
        )
    for name in (sf for sf in specs if sf not in target["specs"]):
        say(f"  {name}: not part of deploy {target['id']}, left untouched")
    return result


def _check_still_registered(arns: set[str], ecs_for_region: Callable[[str], Any] | None) -> None:
    """An ARN we go back to must still be ACTIVE: RunTask refuses a deregistered revision."""
    from botocore.exceptions import BotoCoreError, ClientError

    make = ecs_for_region or taskdef.ecs_client
    clients: dict[str, Any] = {}
    for arn in sorted(arns):
        if not arn.startswith("arn:"):
            continue  # a bare family as exported: ECS resolves it to the latest ACTIVE revision
        region = arn.split(":")[3]
        ecs = clients.setdefault(region, make(region))
        try:
            status = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"]
        except (ClientError, BotoCoreError) as exc:
            raise UserError(f"{arn}: can't check the revision to roll back to ({exc}); nothing was changed") from None
        if status != "ACTIVE":
            raise UserError(
                f"{arn}: the revision to roll back to is {status}, RunTask would refuse it; "
                "deploy the previous image again instead (luigi-fargate deploy --image ...)"
            )


def _deregister_quietly(ecs: Any, arn: str) -> None:
    """Best effort: a revision no spec points at is only clutter, never harmful."""
    try:
        ecs.deregister_task_definition(taskDefinition=arn)
    except Exception:  # noqa: BLE001 - the original failure is what the user must see
        pass


def _existing(root: Path) -> Path:
    if not root.is_dir():
        raise UserError(f"--dags {str(root)!r}: not a directory; give the folder you exported the pipelines into")
    return root
