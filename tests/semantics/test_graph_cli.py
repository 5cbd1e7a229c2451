"""``luigi-fargate graph``: the DAG export would produce, as a tree, Mermaid or DOT, with the warnings."""

from __future__ import annotations

from tests.conftest import luigi_fargate


def test_tree_shows_kinds_offsets_and_warnings() -> None:
    proc = luigi_fargate("graph", "sem_daily.Daily", "--date", "2026-11-01")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.splitlines()[0] == "DAG sem_daily_daily"
    assert "Daily [wrapper: no container]" in out
    assert "Landing.date-ds-1 [sensor: waits for completeness]" in out
    assert "Clean.date-ds (see above)" in out  # the diamond, expanded once
    assert "Dyn: run() yields dynamic dependencies" in proc.stderr


def test_mermaid_and_dot() -> None:
    mermaid = luigi_fargate("graph", "sem_attrs.All", "--date", "2026-11-01", "--group-by", "namespace", "--format", "mermaid")
    assert mermaid.returncode == 0, mermaid.stderr
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart LR" and "  subgraph sales" in lines
    assert any(line.strip().endswith('[/"Source [sensor: waits for completeness]"/]') for line in lines)
    dot = luigi_fargate("graph", "sem_attrs.All", "--date", "2026-11-01", "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith('digraph "sem_attrs_all" {') and '"Loader" -> "sales.Summary.region-eu";' in dot.stdout
    assert "holds several Luigi resources" in dot.stderr


def test_bad_root_is_one_line() -> None:
    proc = luigi_fargate("graph", "sem_daily.Nope", "--date", "2026-11-01")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not found" in proc.stderr
