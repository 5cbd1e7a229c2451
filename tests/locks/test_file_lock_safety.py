"""The file lock's folder is private and its files are never reached through a symlink.

In a folder other users can write to, they could plant a symlink where a lock
file goes (opening it used to truncate the symlink's target) or swap the
folder itself. Real runner subprocesses and the backend, real files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from luigi_fargate.errors import UserError
from luigi_fargate.locks.base import DEFAULT_LOCK_URL
from luigi_fargate.locks.file import FileLockBackend, _file_name
from tests.conftest import base_env, luigi_fargate

KEY = "Slow_60_0_abcdef1234"


def _run(tmp_path: Path, *lock: str, env_lock: str | None = None):
    env = base_env(SHIM_DATA=str(tmp_path / "data"), SHIM_LEDGER=str(tmp_path / "ledger"))
    if env_lock is not None:
        env["LUIGI_FARGATE_LOCK"] = env_lock
    (tmp_path / "data").mkdir(exist_ok=True)
    return luigi_fargate("run", "--allow-any", *lock, "shim_tasks", "Ok", "--name", tmp_path.name, env=env)


def test_the_default_folder_is_private_to_the_user(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = Path(f"/tmp/luigi-fargate-{os.geteuid()}")
    assert f"lock=file://{folder}" in proc.stderr  # not the shared /tmp/luigi-fargate-locks
    st = os.lstat(folder)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
    assert not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IRWXO), oct(st.st_mode)
    assert DEFAULT_LOCK_URL == f"file://{folder}"


def test_a_new_folder_is_created_0700(tmp_path: Path) -> None:
    folder = tmp_path / "locks" / "deeper"
    assert _run(tmp_path, "--lock", f"file://{folder}").returncode == 0
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o773])
def test_a_world_writable_folder_without_sticky_bit_is_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    proc = _run(tmp_path, env_lock=f"file://{folder}")
    assert proc.returncode == 2, proc.stderr
    assert f"lock folder {folder} is writable by everyone and has no sticky bit" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "ledger").exists()


def test_a_world_writable_folder_with_sticky_bit_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "sticky"
    folder.mkdir()
    folder.chmod(0o1777)
    assert _run(tmp_path, "--lock", f"file://{folder}").returncode == 0


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    proc = _run(tmp_path, "--lock", f"file://{tmp_path / 'link'}")
    assert proc.returncode == 2 and "is a symlink" in proc.stderr, proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 4242, 4242)
    proc = _run(tmp_path, "--lock", f"file://{folder}")
    assert proc.returncode == 2, proc.stderr
    assert "owned by uid 4242" in proc.stderr and "--lock file://" in proc.stderr


def test_a_planted_symlink_never_truncates_its_target(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    victim = tmp_path / "precious.txt"
    victim.write_text("years of work\n")
    (folder / _file_name(KEY)).symlink_to(victim)
    backend = FileLockBackend(folder)
    with pytest.raises(UserError, match="is a symlink"):
        backend.try_acquire(KEY, "me")
    assert victim.read_text() == "years of work\n"
    assert backend.list_locks() == []  # listing doesn't follow it either
    with pytest.raises(UserError, match="is a symlink"):
        backend.break_lock(KEY)


def test_a_planted_fifo_neither_blocks_nor_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    os.mkfifo(folder / _file_name(KEY))
    backend = FileLockBackend(folder)
    with pytest.raises(UserError, match="not a regular file"):
        backend.try_acquire(KEY, "me")
    assert backend.list_locks() == []


def test_lock_files_are_private(tmp_path: Path) -> None:
    lease = FileLockBackend(tmp_path / "locks").try_acquire(KEY, "me")
    assert lease is not None
    try:
        assert stat.S_IMODE(os.stat(lease.path).st_mode) & 0o077 == 0
    finally:
        lease.release()
