"""The built distributions hold what the tests test: every module, the entrypoint, clean metadata."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from tests.conftest import REPO
from tests.installed.conftest import PACKAGES, built


def source_files() -> set[str]:
    """Every file of the two packages in the source tree (modules and data), as archive paths."""
    found = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(REPO).as_posix())
    return found


def test_the_wheel_holds_every_module_and_data_file_of_the_source_tree(dist: Path):
    with zipfile.ZipFile(built(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
        (record,) = [n for n in names if n.endswith(".dist-info/RECORD")]
        recorded = {line.split(",")[0] for line in wheel.read(record).decode().splitlines()}
    expected = source_files()
    assert "luigi_fargate/entrypoint.sh" in expected
    assert "luigi_fargate/locks/file.py" in expected
    assert sorted(expected - names) == [], "in the source tree but not in the wheel: fix packages in setup.cfg"
    assert sorted(expected - recorded) == [], "in the wheel but not in its RECORD"


def test_the_sdist_holds_every_module_too(dist: Path):
    sdist = built(dist, "*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert sorted(source_files() - names) == []


def test_every_package_folder_is_a_regular_package():
    """A folder without __init__.py is left out by `packages = find:` (luigi_fargate.locks once was)."""
    folders = {p.parent for package in PACKAGES for p in (REPO / package).rglob("*.py")}
    assert sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").exists()) == []


def test_twine_accepts_the_wheel_and_the_sdist(dist: Path):
    files = sorted(str(p) for p in dist.iterdir())
    assert len(files) == 2, files
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_the_luigi_side_install_has_no_airflow_and_runs_from_the_virtualenv(installed, dist: Path):
    names = installed.python_json(
        "import importlib.metadata as m, json;"
        "print(json.dumps(sorted({d.metadata['Name'].lower() for d in m.distributions()})))"
    )
    assert {"luigi-fargate", "luigi", "boto3", "networkx"} <= set(names)
    assert [n for n in names if n.startswith("apache-airflow")] == []

    # Every Luigi-side module imports in the fresh virtualenv (none needs Airflow), from there.
    files = installed.python_json(
        "import importlib, json, pkgutil, luigi_fargate;"
        "mods = [m.name for m in pkgutil.walk_packages(luigi_fargate.__path__, 'luigi_fargate.')];"
        "print(json.dumps([importlib.import_module(m).__file__ for m in ['luigi_fargate', *mods]]))"
    )
    assert any(f.endswith("luigi_fargate/locks/file.py") for f in files)
    assert all(Path(f).is_relative_to(installed.venv) for f in files), files
    proc = installed.run(installed.python, "-c", "import airflow")
    assert "No module named 'airflow'" in proc.stderr

    wheel_version = built(dist, "*.whl").name.split("-")[1]
    version = installed.run("luigi-fargate", "--version")
    assert (version.returncode, version.stdout.split()) == (0, ["luigi-fargate", wheel_version])
