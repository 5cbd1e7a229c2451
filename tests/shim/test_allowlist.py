"""The image runs only allowlisted task invocations; anything else imports and runs nothing."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import installed_entrypoint, luigi_fargate

ATTEMPTS = [
    # (argv after `run --allow SPEC`, expected exit code)
    (["shim_tasks", "Fails"], 3),  # a real family, but not in this image's specs
    (["shim_tasks;touch pwned", "Ok"], 2),
    (["shim_tasks", "Ok;touch pwned"], 2),
    (["$(touch pwned)", "Ok"], 2),
    (["`touch pwned`", "Ok"], 2),
    (["../shim_tasks", "Ok"], 2),
    (["fixtures/shim_tasks", "Ok"], 2),
    (["os", "system", "--command", "touch pwned"], 3),
    (["shim_tasks", "--allow-any", "Fails"], 3),  # an option injected where the family goes
    (["shim_tasks", "--module", "os", "Ok"], 3),
]

#: Refused after the allowlisted module is imported (the words after FAMILY are read against its
#: parameters); the module they name must never be.
AFTER_FAMILY = [
    ["shim_tasks", "Ok", "--module", "sec_marker"],  # Luigi's own --module can't import another module
    ["shim_tasks", "Ok", "--core-module=sec_marker"],
    ["shim_tasks", "Ok", "--mod", "sec_marker"],  # argparse would read the abbreviation as --module
    ["shim_tasks", "Ok", "--name", "x", "--modul=sec_marker"],
]


@pytest.fixture
def image_spec(shim, tmp_path):
    """An exported spec listing only shim_tasks.Ok, as baked into an image."""
    out = tmp_path / "specs"
    proc = luigi_fargate("export", "shim_tasks.Ok", "--name", "a", "--out", str(out), env=shim.env())
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize(("argv", "code"), ATTEMPTS)
def test_rejected_invocations_import_and_run_nothing(shim, image_spec, tmp_path, argv, code):
    marker = tmp_path / "imported"
    env = shim.env(SHIM_IMPORT_MARKER=str(marker))
    proc = shim.run("--allow", str(image_spec), *argv, env=env, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists(), "the task module was imported"
    assert not (tmp_path / "pwned").exists()
    assert shim.lines() == []


@pytest.mark.parametrize("argv", AFTER_FAMILY)
def test_luigis_own_options_after_the_family_import_nothing_else(shim, image_spec, tmp_path, argv):
    marker = tmp_path / "sec-marker"
    proc = shim.run("--allow", str(image_spec), *argv, env=shim.env(SEC_MARKER=str(marker)), cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "Luigi's own option" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists(), "a module outside the allowlist was imported"
    assert shim.lines() == []


def test_allowlisted_family_runs_from_a_spec_folder_in_the_environment(shim, image_spec):
    proc = shim.run("shim_tasks", "Ok", "--name", "b", env=shim.env(LUIGI_FARGATE_ALLOW=str(image_spec)))
    assert proc.returncode == 0, proc.stderr
    assert shim.lines().count("run Ok b") == 1


def test_no_allowlist_refuses_to_start(shim, tmp_path):
    marker = tmp_path / "imported"
    proc = shim.run("shim_tasks", "Ok", env=shim.env(SHIM_IMPORT_MARKER=str(marker)))
    assert proc.returncode == 3
    assert "--allow" in proc.stderr
    assert not marker.exists()


def test_entrypoint_script_execs_the_runner_and_nothing_else(shim, image_spec, tmp_path):
    path = str(installed_entrypoint())
    env = shim.env(LUIGI_FARGATE_ALLOW=str(image_spec), SHIM_IMPORT_MARKER=str(tmp_path / "imported"))
    env["PATH"] = f"{__import__('tests.conftest').conftest.BIN}:{env['PATH']}"

    ok = subprocess.run(["sh", path, "shim_tasks", "Ok", "--name", "c"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert shim.lines().count("run Ok c") == 1

    (tmp_path / "imported").unlink()
    for argv in (["sh", "-c", "touch pwned"], ["bash", "-c", "touch pwned"], []):
        bad = subprocess.run(["sh", path, *argv], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert bad.returncode in (2, 3), bad.stderr
        assert not (tmp_path / "pwned").exists()
        assert not (tmp_path / "imported").exists()
