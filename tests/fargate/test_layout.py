"""airflow_bridge's layers, as in the Amazon provider: hooks at the bottom, links and triggers above
them, operators on top; nothing imports upwards (read from the source, so a lazy import counts too)."""

from __future__ import annotations

import ast

from tests.conftest import REPO

#: package -> the airflow_bridge packages it may import
ALLOWED = {
    "hooks": {"hooks"},
    "links": {"hooks", "links"},
    "triggers": {"hooks", "triggers"},
    "operators": {"hooks", "links", "triggers", "operators"},
}


def imported_packages(path) -> set[str]:  # noqa: ANN001
    """The airflow_bridge packages a module imports (``airflow_bridge.hooks.ecs`` -> ``hooks``)."""
    return {name.split(".")[1] for name in _imports(path) if name.startswith("airflow_bridge.")}


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((REPO / "airflow_bridge" / package).glob("*.py")):
            extra = imported_packages(path) - allowed - {"__init__"}
            if extra:
                wrong.append(f"{path.relative_to(REPO)} imports airflow_bridge.{', '.join(sorted(extra))}")
    assert wrong == []


def test_the_luigi_side_never_imports_the_airflow_side() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "luigi_fargate").rglob("*.py")
                 if {"airflow", "airflow_bridge"} & {n.split(".")[0] for n in _imports(p)}]  # fmt: skip
    assert offenders == []


def _imports(path) -> set[str]:  # noqa: ANN001
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out
