"""The design's layering, checked on the source: no import cycles, and each side imports only the contract of the other.

Every import counts, including those inside functions: an import moved into a
function to dodge a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import REPO

PACKAGES = ("luigi_fargate", "airflow_bridge")
#: What the Airflow side may use of the Luigi side: the contract (the spec) and the exit codes' meaning, plus
#: two standard-library modules both sides share: ECS's tag rules (tags the spec carries and the operator
#: adds at run time) and the orphan sweep's rules (the command and the sweeper DAG decide alike).
CONTRACT = ("luigi_fargate.spec", "luigi_fargate.exit_codes", "luigi_fargate.validators", "luigi_fargate.fargate.sweep")


def _in_contract(module: str) -> bool:
    return module == "luigi_fargate" or any(module == c or module.startswith(c + ".") for c in CONTRACT)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module ``name`` imports (top level or inside functions), resolved to modules or packages."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return found


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(name, path, modules):
            # A submodule's implicit import of its own parent packages is Python's doing, not a dependency.
            if target != name and not name.startswith(target + "."):
                graph.add_edge(name, target)
    return graph


def test_no_import_cycles_in_either_package() -> None:
    graph = import_graph().subgraph(_modules())
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_the_luigi_side_never_imports_airflow() -> None:
    graph = import_graph()
    bad = sorted((a, b) for a, b in graph.edges if a.startswith("luigi_fargate") and b.split(".")[0] in ("airflow", "airflow_bridge"))
    assert bad == []


def test_the_airflow_side_imports_only_the_contract_of_the_luigi_side_and_never_luigi() -> None:
    graph = import_graph()
    bad = sorted(
        (a, b) for a, b in graph.edges
        if a.startswith("airflow_bridge") and (b.split(".")[0] == "luigi" or (b.startswith("luigi_fargate") and not _in_contract(b)))
    )  # fmt: skip
    assert bad == []


@pytest.mark.parametrize("module", ["luigi_fargate.spec.model", "luigi_fargate.spec.params", "luigi_fargate.exit_codes",
                                    "luigi_fargate.validators", "luigi_fargate.fargate.sweep"])
def test_the_contract_uses_the_standard_library_only(module: str) -> None:
    graph = import_graph()
    closure = nx.descendants(graph, module)
    third_party = sorted(m for m in closure if m.split(".")[0] not in (*PACKAGES, *__import__("sys").stdlib_module_names))
    assert third_party == []


def test_ruff_is_clean_with_complexity_checks() -> None:
    """ruff.toml's rules (C901 at most 12 among them) hold for every file a newcomer reads."""
    import subprocess
    import sys
    from pathlib import Path

    ruff = Path(sys.executable).with_name("ruff")
    paths = ["luigi_fargate", "airflow_bridge", "tests", "bench", "examples", "docs"]
    proc = subprocess.run([str(ruff), "check", "--no-cache", *paths], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
