"""The temp-file cleanup looks where Luigi writes (the output's path as given, ``..`` through a symlink included),
and a temp-named entry it may not remove (another user's, in a sticky folder) is left, not a crashed run."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import luigi
import pytest

from luigi_fargate.shim.temp_outputs import remove_interrupted_temp_files


class _At(luigi.Task):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)


def test_a_dot_dot_through_a_symlinked_folder_is_resolved_the_way_luigi_writes(tmp_path: Path) -> None:
    (tmp_path / "real" / "base").mkdir(parents=True)
    (tmp_path / "real" / "shared").mkdir()
    (tmp_path / "shared").mkdir()  # where the path points once ".." is taken lexically: another task's folder
    (tmp_path / "link").symlink_to(tmp_path / "real" / "base")
    output = tmp_path / "link" / ".." / "shared" / "out.csv"
    ours = Path(f"{output}-luigi-tmp-0123456789")
    ours.write_text("left by our killed run")  # the kernel puts it in real/shared
    assert (tmp_path / "real" / "shared" / ours.name).exists()
    theirs = tmp_path / "shared" / "out.csv-luigi-tmp-1111111111"
    theirs.write_text("another task's write in progress")

    removed = remove_interrupted_temp_files(_At(path=str(output)))

    assert theirs.exists()
    assert not (tmp_path / "real" / "shared" / ours.name).exists()
    assert [os.path.realpath(p) for p in removed] == [str(tmp_path / "real" / "shared" / ours.name)]


def test_a_relative_output_is_looked_up_in_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.txt-luigi-tmp-0123456789").write_text("x")
    assert len(remove_interrupted_temp_files(_At(path="out.txt"))) == 1
    assert not (tmp_path / "out.txt-luigi-tmp-0123456789").exists()


def test_an_entry_it_may_not_remove_is_left_and_the_others_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = tmp_path / "out.txt-luigi-tmp-0000000001"  # e.g. another user's, in a sticky folder such as /tmp
    planted.write_text("not ours")
    folder = tmp_path / "out.txt-luigi-tmp-0000000002"
    folder.mkdir()
    (folder / "part").write_text("not ours either")
    ours = tmp_path / "out.txt-luigi-tmp-0000000003"
    ours.write_text("ours")
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if os.path.basename(path) in (planted.name, "part"):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    removed = remove_interrupted_temp_files(_At(path=str(tmp_path / "out.txt")))
    assert removed == [str(ours)]
    assert planted.exists() and (folder / "part").exists()
