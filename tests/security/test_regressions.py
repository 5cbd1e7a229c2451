"""One fixed case per class of issue 12's leaks, each in a real ``luigi-fargate run`` subprocess.

Each of these was a hole before the trust-boundary work (every test here
fails against that code): a module outside the allowlist imported (the
marker file written), or exit 0 although nothing ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate
from tests.security.conftest import World
from tests.security.strategies import graph_check


class Case:
    """One real runner invocation in a fresh folder, with the suite's fixture environment."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.marker = root / "marker"
        self.ran_file = root / "ran.jsonl"
        self.env = base_env(
            SEC_DATA=str(self.data), SEC_RAN=str(self.ran_file), SEC_MARKER=str(self.marker),
            LUIGI_FARGATE_LOCK=f"file://{root / 'locks'}", **env,
        )  # fmt: skip

    def run(self, *argv: str, timeout: float = 120):
        return luigi_fargate("run", *argv, env=self.env, cwd=self.root, timeout=timeout)

    def ran(self, family: str | None = None) -> list[dict]:
        lines = self.ran_file.read_text().splitlines() if self.ran_file.exists() else []
        return [r for r in map(json.loads, lines) if family is None or r.get("family") == family]


@pytest.fixture
def image(world: World, tmp_path: Path) -> Case:
    """A container of the image: $LUIGI_FARGATE_ALLOW is the baked spec folder."""
    return Case(tmp_path, LUIGI_FARGATE_ALLOW=str(world.image))


def refused_without_import(case: Case, proc, code: int = 3) -> None:
    assert proc.returncode == code, proc.stderr
    assert not case.marker.exists(), "imported a module outside the allowlist"
    assert case.ran() == [], "something ran"
    assert "Traceback" not in proc.stderr


# --- Luigi's own options: abbreviations and --opt=value forms -----------------------------------------


def test_a_parameter_spelt_like_an_abbreviated_module_option_is_that_parameter(image: Case) -> None:
    """``--mod=x`` is Job's parameter ``mod``; Luigi's argparse read it as ``--module=x`` and imported x."""
    proc = image.run("sec_tasks", "Job", "--mod=sec_marker")
    assert proc.returncode == 0, proc.stderr
    assert not image.marker.exists()
    assert [r["params"]["mod"] for r in image.ran("Job")] == ["sec_marker"]


@pytest.mark.parametrize("words", [["--modul=sec_marker"], ["--mo", "sec_marker"], ["--help-a"], ["--local-sch"], ["--workers=4"]])
def test_luigis_options_in_any_spelling_are_refused(image: Case, words: list[str]) -> None:
    proc = image.run("sec_tasks", "Root", *words)
    refused_without_import(image, proc)
    assert "Luigi's own option" in proc.stderr


# --- The graph check: input by environment and by option ---------------------------------------------


def test_graph_check_from_the_environment_never_imports_its_root_unless_allowlisted(image: Case) -> None:
    image.env["LUIGI_FARGATE_GRAPH_CHECK"] = graph_check(["sec_marker", "Evil"], 1, 0)
    refused_without_import(image, image.run("sec_tasks", "Job"))


def test_graph_check_from_the_option_never_imports_its_root_unless_allowlisted(image: Case) -> None:
    refused_without_import(image, image.run("--graph-check", graph_check(["sec_marker", "Evil"], 1, 0), "sec_tasks", "Job"))


def test_system_exit_while_importing_the_graph_check_root_is_not_success(image: Case) -> None:
    image.env["LUIGI_FARGATE_GRAPH_CHECK"] = graph_check(["sec_import_raises", "Never"], 1, 0)
    image.env["SEC_IMPORT_RAISES"] = "SystemExit0"
    refused_without_import(image, image.run("sec_tasks", "Job"))


# --- The allowlist itself: environment and option order ------------------------------------------------


def test_an_empty_allowlist_in_the_environment_is_not_widened_by_allow_any(tmp_path: Path) -> None:
    case = Case(tmp_path, LUIGI_FARGATE_ALLOW="")
    proc = case.run("--allow-any", "sec_marker", "Evil")
    refused_without_import(case, proc)
    assert "LUIGI_FARGATE_ALLOW" in proc.stderr


def test_allow_after_the_family_is_not_a_runner_option(image: Case, world: World) -> None:
    refused_without_import(image, image.run("sec_marker", "Evil", "--allow", str(world.evil_spec)))


def test_allow_before_module_cannot_leave_the_images_allowlist(image: Case, world: World) -> None:
    refused_without_import(image, image.run("--allow", str(world.evil_spec), "sec_marker", "Evil"))


# --- Values that look like options are values --------------------------------------------------------


@pytest.mark.parametrize("value", ["-h", "--help", "--"])
def test_an_option_like_value_is_the_value(image: Case, value: str) -> None:
    """``--name -h`` printed help and exited 0 (nothing ran); ``--name=--`` ran the task with the default name."""
    proc = image.run("sec_tasks", "Job", "--name", value) if value != "--" else image.run("sec_tasks", "Job", f"--name={value}")
    assert proc.returncode == 0, proc.stderr
    assert [r["params"]["name"] for r in image.ran("Job")] == [value]


# --- SystemExit and other BaseExceptions from user code ------------------------------------------------


def test_system_exit_on_import_is_not_success(image: Case) -> None:
    image.env["SEC_IMPORT_RAISES"] = "SystemExit0"
    proc = image.run("sec_import_raises", "Never")
    refused_without_import(image, proc)
    assert "SystemExit(0)" in proc.stderr


@pytest.mark.parametrize("where", ["requires", "complete"])
def test_system_exit_in_the_tasks_own_checks_is_a_failure(image: Case, where: str) -> None:
    proc = image.run("sec_tasks", "Explodes", "--where", where, "--what", "SystemExit0")
    assert proc.returncode == 5, proc.stderr
    assert f"{where}() raised SystemExit(0)" in proc.stderr
    assert image.ran() == []
