"""The fork server's verdicts are those of real ``python -m luigi_fargate run`` processes.

The generated suite trusts tests/security/fork_server.py for its exit codes
and imports; these cases, one per outcome, run both ways and must agree.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import ForkRunner, World, run_subprocess
from tests.security.strategies import graph_check

CASES = {
    "ran": (["sec_tasks", "Job", "--name", "-h", "--mod=sec_marker"], {}, 0),
    "refused before import": (["sec_marker", "Evil"], {}, 3),
    "luigi option": (["sec_tasks", "Job", "--modul=sec_marker"], {}, 3),
    "bad value": (["sec_tasks", "Job", "--n", "x"], {}, 2),
    "upstream incomplete": (["sec_tasks", "Root"], {}, 4),
    "system exit in complete()": (["sec_tasks", "Explodes", "--where", "complete", "--what", "SystemExit0"], {}, 5),
    "system exit on import": (["sec_import_raises", "Never"], {"SEC_IMPORT_RAISES": "SystemExit0"}, 3),
    "graph mismatch": (["sec_tasks", "Job"], {"LUIGI_FARGATE_GRAPH_CHECK": graph_check(["sec_tasks", "Root", "--day", "2026-11-02"])}, 8),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fork_and_subprocess_agree(fork_runner: ForkRunner, world: World, name: str) -> None:
    argv, extra_env, code = CASES[name]
    env = {"LUIGI_FARGATE_ALLOW": str(world.image), **extra_env}
    forked = fork_runner.run(argv, env)
    real = run_subprocess(world.root, argv, env, name.replace(" ", "-"))
    assert (forked.code, real.code) == (code, code), forked.explain(argv, env) + "\n---\n" + real.output
    assert [r["family"] for r in forked.ran] == [r["family"] for r in real.ran]
    assert not forked.marker and not real.marker
