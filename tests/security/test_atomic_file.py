"""The atomic writer (export, crontab migrate, deploy) replaces only regular files unless told otherwise."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from luigi_fargate.atomic_file import write_atomically
from luigi_fargate.errors import UserError


def test_it_replaces_a_regular_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "spec.json"
    target.write_text("old")
    target.chmod(0o600)
    write_atomically(target, "new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["spec.json"]  # no temporary file left


def test_it_refuses_to_replace_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("keep me")
    link = tmp_path / "spec.json"
    link.symlink_to(victim)
    with pytest.raises(UserError, match=r"spec.json is a symlink, not a regular file: refusing to replace it"):
        write_atomically(link, "new")
    assert link.is_symlink() and victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "spec.json"]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()


@pytest.mark.parametrize(("make", "words"), [(_fifo, "a FIFO"), (Path.mkdir, "a directory"), (_socket, "a socket")])
def test_it_refuses_to_replace_special_files(tmp_path: Path, make, words: str) -> None:
    target = tmp_path / "crontab"
    make(target)
    with pytest.raises(UserError, match=f"is {words}, not a regular file"):
        write_atomically(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crontab"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_it_refuses_a_device(tmp_path: Path) -> None:
    # A node of our own in tmp_path, never a real /dev entry: the old writer replaced whatever it was given.
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    with pytest.raises(UserError, match="is a character device"):
        write_atomically(device, "x")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_replace_special_says_the_caller_means_it(tmp_path: Path) -> None:
    victim = tmp_path / "target.txt"
    victim.write_text("keep me")
    link = tmp_path / "spec.json"
    link.symlink_to(victim)
    write_atomically(link, "new", replace_special=True)
    assert not link.is_symlink() and link.read_text() == "new" and victim.read_text() == "keep me"
