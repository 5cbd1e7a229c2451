"""`deploy` and `deploy --rollback`: every fargate spec moves to the new revision, or none does."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest

from luigi_fargate.errors import UserError
from luigi_fargate.release import deploy as deploy_module
from luigi_fargate.release.settings import release_settings_from
from tests.conftest import BIN
from tests.release.conftest import GOOD_SETTINGS, IMAGE_1, IMAGE_2, REGION, make_dags

FARGATE_SPECS = ("daily_report_0.json", "daily_report_1.json")


def revision(n: int) -> str:
    return f"arn:aws:ecs:{REGION}:123456789012:task-definition/pipelines:{n}"


def test_deploy_then_roll_back_twice(release):
    local_before = (release.dags / "local_report_0.json").read_bytes()

    first = release.cli("deploy", "--image", IMAGE_1, "--dags", str(release.dags))
    assert first.returncode == 0, first.stderr
    assert f"registered {revision(1)} (image {IMAGE_1}, release 2026-11-01" in first.stdout
    assert "local_report_0.json: local runner, left untouched" in first.stdout
    for name in FARGATE_SPECS:
        runner = release.runner(name)
        assert runner["task_definition"] == revision(1)
        assert runner["previous_task_definition"] == "pipelines"  # as exported
        assert runner["cluster"] == "pipelines"  # the rest of the runner is kept

    second = release.cli("deploy", "--image", IMAGE_2, "--dags", str(release.dags))
    assert second.returncode == 0, second.stderr
    assert f"daily_report_0.json: {revision(1)} -> {revision(2)}" in second.stdout
    assert release.ecs.describe_task_definition(taskDefinition=revision(2))["taskDefinition"]["containerDefinitions"][0]["image"] == IMAGE_2
    assert {(r["task_definition"], r["previous_task_definition"]) for r in map(release.runner, FARGATE_SPECS)} == {
        (revision(2), revision(1))
    }

    back = release.cli("deploy", "--rollback", "--dags", str(release.dags))
    assert back.returncode == 0, back.stderr
    assert "rolled back deploy 2" in back.stdout
    assert {release.runner(n)["task_definition"] for n in FARGATE_SPECS} == {revision(1)}
    # Rolling back does not deregister anything: the revision can be deployed again by ARN or image.
    assert release.ecs.describe_task_definition(taskDefinition=revision(2))["taskDefinition"]["status"] == "ACTIVE"

    back_again = release.cli("deploy", "--rollback", "--dags", str(release.dags))
    assert back_again.returncode == 0, back_again.stderr
    assert {release.runner(n)["task_definition"] for n in FARGATE_SPECS} == {"pipelines"}
    assert "note: 'pipelines' names no revision, so ECS runs the family's latest ACTIVE revision" in back_again.stdout

    nothing_left = release.cli("deploy", "--rollback", "--dags", str(release.dags))
    assert nothing_left.returncode == 2
    assert "no deploy left to roll back; nothing was changed" in nothing_left.stderr

    assert (release.dags / "local_report_0.json").read_bytes() == local_before
    history = json.loads((release.dags / deploy_module.HISTORY_FILE).read_text())["deploys"]
    assert [(e["id"], e["action"], e.get("of")) for e in history] == [
        (1, "deploy", None), (2, "deploy", None), (3, "rollback", 2), (4, "rollback", 1),
    ]  # fmt: skip
    assert history[1]["image"] == IMAGE_2 and history[1]["specs"]["daily_report_1.json"] == {"from": revision(1), "to": revision(2)}


def test_a_failure_part_way_restores_every_file_and_drops_the_revision(release, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", release.endpoint)
    settings = release_settings_from(GOOD_SETTINGS)
    deploy_module.deploy(release.dags, IMAGE_1, settings, say=lambda _: None)
    before = release.snapshot()

    real_write = deploy_module.atomic_file.write_atomically
    calls = []

    def disk_full_on_second_spec(path, text):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_write(path, text)

    monkeypatch.setattr(deploy_module.atomic_file, "write_atomically", disk_full_on_second_spec)
    with pytest.raises(UserError, match="No space left on device.*nothing was changed"):
        deploy_module.deploy(release.dags, IMAGE_2, settings, say=lambda _: None)

    assert release.snapshot() == before  # the first spec was rewritten, then put back byte for byte
    assert len(calls) > 2  # ... by writing it again
    assert release.ecs.describe_task_definition(taskDefinition=revision(2))["taskDefinition"]["status"] == "INACTIVE"
    # And the next deploy works normally.
    monkeypatch.setattr(deploy_module.atomic_file, "write_atomically", real_write)
    deploy_module.deploy(release.dags, IMAGE_2, settings, say=lambda _: None)
    assert {release.runner(n)["task_definition"] for n in FARGATE_SPECS} == {revision(3)}


def test_sigterm_part_way_restores_every_file(release, monkeypatch):
    import os
    import signal

    monkeypatch.setenv("AWS_ENDPOINT_URL", release.endpoint)
    before = release.snapshot()
    real_write = deploy_module.atomic_file.write_atomically
    calls = []

    def terminated_after_first_spec(path, text):
        calls.append(path)
        real_write(path, text)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or a CI timeout sends

    monkeypatch.setattr(deploy_module.atomic_file, "write_atomically", terminated_after_first_spec)
    with pytest.raises(UserError, match="terminated by SIGTERM.*nothing was changed") as err:
        deploy_module.deploy(release.dags, IMAGE_1, release_settings_from(GOOD_SETTINGS), say=lambda _: None)
    assert err.value.exit_code == 143
    assert release.snapshot() == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_a_broken_spec_stops_the_deploy_before_anything_is_registered(release):
    (release.dags / "zz_broken.json").write_text('{"schema_version": 1, "dag_id": "x"')
    before = release.snapshot()
    proc = release.cli("deploy", "--image", IMAGE_1, "--dags", str(release.dags))
    assert proc.returncode == 2
    assert "zz_broken.json: not valid JSON" in proc.stderr
    assert release.snapshot() == before
    assert release.ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_rollback_refuses_a_revision_that_was_deregistered(release):
    for image in (IMAGE_1, IMAGE_2):
        assert release.cli("deploy", "--image", image, "--dags", str(release.dags)).returncode == 0
    release.ecs.deregister_task_definition(taskDefinition=revision(1))
    before = release.snapshot()
    proc = release.cli("deploy", "--rollback", "--dags", str(release.dags))
    assert proc.returncode == 2
    assert f"{revision(1)}: the revision to roll back to is INACTIVE" in proc.stderr
    assert release.snapshot() == before


def test_a_concurrent_reader_never_sees_a_partial_spec(release, exported_spec):
    """What Airflow's dag-processor does: read and parse the specs at any moment during a deploy."""
    make_dags(release.dags, exported_spec, fargate=120, local=0)
    names = sorted(p.name for p in release.dags.glob("*.json"))
    errors: list[str] = []
    seen: set[str] = set()
    reads = 0
    done = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            for name in names:
                text = (release.dags / name).read_text()
                try:
                    seen.add(json.loads(text)["runner"].get("task_definition", "(local)"))
                except (ValueError, KeyError) as exc:
                    errors.append(f"{name}: {exc}: {text[:80]!r}")
                reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        proc = subprocess.run([str(BIN / "luigi-fargate"), "deploy", "--image", IMAGE_1, "--dags", str(release.dags)],
                              env=release.env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        done.set()
        thread.join()
    assert proc.returncode == 0, proc.stderr
    assert errors == []
    assert reads > len(names)
    assert seen <= {"pipelines", revision(1), "(local)"}
    assert {release.runner(n).get("task_definition") for n in names} == {revision(1), None}


def test_airflow_builds_the_dag_on_the_deployed_revision(release):
    """The point of a deploy: the operators Airflow builds from the rewritten spec run the new revision."""
    from airflow_bridge import dag_from_spec

    assert release.cli("deploy", "--image", IMAGE_1, "--dags", str(release.dags)).returncode == 0
    stub = release.dags / "daily_report_0.py"
    stub.write_text("from airflow_bridge import dag_from_spec\n\ndag = dag_from_spec(__file__)\n")  # as exported
    dag = dag_from_spec(str(stub))
    fargate_tasks = [t for t in dag.tasks if hasattr(t, "task_definition")]
    assert fargate_tasks and {t.task_definition for t in fargate_tasks} == {revision(1)}


def test_a_folder_without_fargate_specs_has_nothing_to_deploy(release, tmp_path, exported_spec, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", release.endpoint)
    local_only = make_dags(tmp_path / "local-only", exported_spec, fargate=0, local=2)
    with pytest.raises(UserError, match="no spec uses the fargate runner, nothing to deploy; export with --runner fargate"):
        deploy_module.deploy(local_only, IMAGE_1, release_settings_from(GOOD_SETTINGS), say=lambda _: None)
    assert release.ecs.list_task_definitions()["taskDefinitionArns"] == []
