"""Luigi's temporary outputs left behind by an interrupted run of this task, removed before it runs again.

Luigi writes a LocalTarget atomically: ``open("w")`` writes to
``<path>-luigi-tmp-<9 or 10 digits>`` and renames it on close
(``luigi.local_target.atomic_file``), ``temporary_path()`` hands out
``<path>-luigi-tmp-<10 digits>`` (a folder, for folder outputs). A run killed
mid-write (SIGKILL, OOM, a Spot interruption) leaves that file forever.

Only names of exactly that form, next to one of this task's own local
outputs, are removed, and only while the task's lock is held: a concurrent
runner of the same task can't be writing then. Locks are per Luigi task id,
so two *different* tasks that write the same output path (a parameter left
out of the path) could have one remove the other's file in progress; that
graph already races in Luigi itself (both rename onto one path), and the
runner does not guard against it.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from luigi_fargate.shim.user_code import user_code

if TYPE_CHECKING:
    import luigi

#: The suffix Luigi appends to a local output's path for its temporary file or folder.
LUIGI_TEMP_SUFFIX = re.compile(r"-luigi-tmp-[0-9]{9,10}")


def local_output_paths(task: luigi.Task) -> list[str]:
    """Paths of the task's outputs on the local file system (LocalTarget, or a FileSystemTarget on it)."""
    from luigi.local_target import LocalFileSystem
    from luigi.target import FileSystemTarget
    from luigi.task import flatten

    with user_code(f"{task.task_id}: output()"):
        outputs = flatten(task.output())
    paths = []
    for target in outputs:
        if isinstance(target, FileSystemTarget) and isinstance(getattr(target, "fs", None), LocalFileSystem):
            path = str(target.path).rstrip("/")
            if path:
                paths.append(path)
    return paths


def is_luigi_temp_of(name: str, output_name: str) -> bool:
    """Is ``name`` (a file name in the output's folder) Luigi's temporary name for ``output_name``?"""
    return name.startswith(output_name) and LUIGI_TEMP_SUFFIX.fullmatch(name, len(output_name)) is not None


def interrupted_temp_paths(output_paths: list[str]) -> list[str]:
    """Luigi temporaries of these outputs that exist now (each output's folder listed once)."""
    found: list[str] = []
    by_folder: dict[str, set[str]] = {}
    for path in output_paths:
        # As given, not abspath(): Luigi writes "<path>-luigi-tmp-N" and the kernel resolves "..", after symlinks.
        folder, name = os.path.split(path)
        if name:
            by_folder.setdefault(folder or os.curdir, set()).add(name)
    for folder, names in by_folder.items():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        found += [os.path.join(folder, e) for e in sorted(entries) if any(is_luigi_temp_of(e, n) for n in names)]
    return found


def remove_interrupted_temp_files(task: luigi.Task) -> list[str]:
    """Remove this task's leftover Luigi temporaries; the paths removed. Call with the task's lock held."""
    removed = []
    for path in interrupted_temp_paths(local_output_paths(task)):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                import shutil  # only here: most runs remove nothing

                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError:
            continue  # not ours to remove (another user's, in a sticky folder): left, and Luigi writes under a new name
        removed.append(path)
    return removed
