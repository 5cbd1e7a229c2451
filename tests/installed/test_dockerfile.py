"""deploy/Dockerfile stays consistent with the package it installs.

No image can be built here (no Docker engine), so these tests read the file
and compare it with the package's own constants; its luigi-fargate steps run
for real in the installed layer (conftest.TaskImage installs the entrypoint
with the Dockerfile's own command).
"""

from __future__ import annotations

import fnmatch
import zipfile
from pathlib import Path

from packaging.specifiers import SpecifierSet

from luigi_fargate.cli import _build_parser
from luigi_fargate.config.keys import KEYS
from luigi_fargate.config.parsers import RESERVED_ENV
from luigi_fargate.spec import environment
from tests.installed.conftest import built
from tests.installed.dockerfile import (
    DOCKERFILE,
    copies,
    env_vars,
    exec_form,
    instructions,
    luigi_fargate_commands,
    of,
    run_commands,
)

#: The environment variables luigi-fargate reads or sets in a task.
DEFAULT_ENTRYPOINT = KEYS["entrypoint"].default
DEFAULT_ALLOW_PATH = KEYS["allow_path"].default
ALLOW_ENV = environment.ALLOW
PACKAGE_ENV = {environment.ALLOW, environment.LOCK, environment.EVENTS_FILE, environment.GRAPH_CHECK, *RESERVED_ENV}


def _pip_installs() -> list[list[str]]:
    return [cmd for cmd in run_commands() if cmd[:2] == ["pip", "install"] or cmd[1:4] == ["-m", "pip", "install"]]


def test_the_base_image_has_the_python_the_package_requires(dist: Path):
    (base,) = [i.args for i in of("FROM")]  # one stage
    image, _, tag = base.partition(":")
    assert image == "python", base
    with zipfile.ZipFile(built(dist, "*.whl")) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        requires = next(line.split(":", 1)[1].strip() for line in wheel.read(metadata).decode().splitlines()
                        if line.startswith("Requires-Python:"))  # fmt: skip
    assert tag.split("-")[0] in SpecifierSet(requires), (tag, requires)


def test_the_image_installs_the_built_wheel_the_luigi_side_way_with_the_constraints(dist: Path):
    wheel = built(dist, "*.whl").name
    (sources, dest) = next((s, d) for s, d in copies() if "constraints.txt" in s)
    (wheel_source,) = [s for s in sources if s.endswith(".whl")]
    assert fnmatch.fnmatch(f"dist/{wheel}", wheel_source), (wheel, wheel_source)
    (install,) = _pip_installs()
    args = install[2:] if install[0] == "pip" else install[4:]
    assert ["-c", f"{dest.rstrip('/')}/constraints.txt"] == args[args.index("-c"):args.index("-c") + 2]
    (wheel_arg,) = [a for a in args if a.endswith(".whl")]
    assert fnmatch.fnmatch(wheel, Path(wheel_arg).name)
    # The Luigi side only: no [airflow] extra, no Airflow distribution.
    assert not [a for a in args if "[" in a or "airflow" in a.lower()], args


def test_the_entrypoint_is_installed_by_the_package_and_is_the_images_entrypoint():
    (install,) = [c for c in luigi_fargate_commands() if c[:1] == ["entrypoint-path"]]
    parsed = _build_parser().parse_args(install)  # the package's own parser accepts the step
    assert parsed.install == DEFAULT_ENTRYPOINT  # where the task definition points entryPoint
    (entrypoint,) = of("ENTRYPOINT")
    assert exec_form(entrypoint) == [DEFAULT_ENTRYPOINT]
    assert of("CMD") == []  # each ECS run passes its command


def test_the_specs_are_baked_into_the_allowlist_folder_the_task_definition_names():
    env = env_vars()
    assert env[ALLOW_ENV] == DEFAULT_ALLOW_PATH
    specs = [(s, d) for s, d in copies() if d.rstrip("/") == DEFAULT_ALLOW_PATH]
    assert specs and all(src.endswith("*.json") for s, _ in specs for src in s), specs


def test_every_luigi_fargate_variable_the_image_sets_is_one_the_package_reads():
    names = {k for k in env_vars() if k.startswith("LUIGI_FARGATE_")}
    assert names and names <= PACKAGE_ENV, names - PACKAGE_ENV


def test_the_user_code_is_on_pythonpath():
    (sources, dest) = next((s, d) for s, d in copies() if s == ["examples/"])
    assert str(Path(dest).parent) in env_vars()["PYTHONPATH"].split(":")


def test_tasks_run_as_a_non_root_user_after_every_build_step():
    steps = instructions()
    users = [i for i in steps if i.keyword == "USER"]
    assert users, "no USER: tasks would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), user
    last = steps.index(users[-1])
    assert not [i for i in steps[last:] if i.keyword == "RUN"]
    assert steps.index(of("ENTRYPOINT")[0]) > last


def test_the_dockerignore_lets_in_every_file_the_dockerfile_copies():
    allowed = [line[1:] for line in (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines() if line.startswith("!")]
    for sources, _ in copies():
        for src in sources:
            assert src in allowed, f"{src} is copied but excluded by Dockerfile.dockerignore"
