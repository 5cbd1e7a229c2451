"""``luigi-fargate graph MODULE.Task [luigi params]``: what export would produce, to look at.

The same walk and the same spec as ``export`` (nothing written, nothing run),
shown as a tree in the terminal, Mermaid text (paste into Markdown) or DOT
(``| dot -Tsvg``), followed by export's warnings.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from luigi_fargate.spec.kinds import NodeKind

if TYPE_CHECKING:
    from luigi_fargate.spec import PipelineSpec, TaskNode

FORMATS = ("tree", "mermaid", "dot")
#: How each node kind reads in the pictures.
KIND_LABEL = {NodeKind.TASK: "task", NodeKind.EXTERNAL: "sensor: waits for completeness", NodeKind.WRAPPER: "wrapper: no container"}


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from luigi_fargate.cli.export import add_task_arguments

    p = sub.add_parser(
        "graph",
        parents=[common],
        allow_abbrev=False,
        help="show the DAG that export would produce (tree, Mermaid or DOT)",
        description=(
            "Walk MODULE.Task's Luigi graph like export does and show the resulting Airflow tasks: run-date "
            "templates, sensors, wrappers, groups and warnings. Nothing is written or run."
        ),
    )
    add_task_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="tree", help="tree (terminal, default), mermaid or dot")
    p.set_defaults(handler=run_graph, accepts_extra=True)


def _label(node: TaskNode) -> str:
    """The Airflow id (it names run-date offsets: ``Clean.date-ds-1``) and what kind of task it is."""
    return node.id + (f" [{KIND_LABEL[node.kind]}]" if node.kind != "task" else "")


def render_tree(spec: PipelineSpec) -> str:
    """The root at the top, each task's dependencies below it; a shared dependency is expanded once."""
    from rich.console import Console
    from rich.tree import Tree

    by_id = {t.id: t for t in spec.tasks}
    downstream = {u for t in spec.tasks for u in t.upstream}
    tops = [t.id for t in spec.tasks if t.id not in downstream]
    shown: set[str] = set()

    def add(branch: Tree, airflow_id: str) -> None:
        node = by_id[airflow_id]
        if airflow_id in shown:
            branch.add(f"{node.id} (see above)", style="dim")
            return
        shown.add(airflow_id)
        group = f"  \\[group {node.group}]" if node.group else ""
        child = branch.add(_label(node).replace("[", "\\[") + group, style={NodeKind.EXTERNAL: "yellow", NodeKind.WRAPPER: "cyan"}.get(node.kind, ""))
        for note in node.notes:
            child.add(f"note: {note}", style="magenta")
        for u in node.upstream:
            add(child, u)

    tree = Tree(f"DAG {spec.dag_id}" + (f"  schedule {spec.schedule['cron']} ({spec.schedule.get('timezone', 'UTC')})" if spec.schedule else ""))
    for top in sorted(tops):
        add(tree, top)
    console = Console(file=None, width=160, record=True, force_terminal=sys.stdout.isatty())
    with console.capture() as capture:
        console.print(tree)
    text = capture.get()
    return text if text.endswith("\n") else text + "\n"


def render_mermaid(spec: PipelineSpec) -> str:
    def text(s: str) -> str:
        return s.replace('"', "#quot;")

    names = {t.id: f"n{i}" for i, t in enumerate(spec.tasks)}
    lines = ["flowchart LR"]
    for group, members in _by_group(spec).items():
        indent = "    " if group else "  "
        if group:
            lines.append(f"  subgraph {group}")
        for t in members:
            label = text(_label(t))
            shape = {NodeKind.EXTERNAL: f'[/"{label}"/]', NodeKind.WRAPPER: f'(["{label}"])'}.get(t.kind, f'["{label}"]')
            lines.append(f"{indent}{names[t.id]}{shape}")
        if group:
            lines.append("  end")
    for t in spec.tasks:
        for u in t.upstream:
            lines.append(f"  {names[u]} --> {names[t.id]}")
    return "\n".join(lines) + "\n"


def _by_group(spec: PipelineSpec) -> dict[str | None, list[TaskNode]]:
    """Tasks per TaskGroup (None: not grouped), in spec order."""
    groups: dict[str | None, list[TaskNode]] = {}
    for t in spec.tasks:
        groups.setdefault(t.group, []).append(t)
    return groups


def render_dot(spec: PipelineSpec) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(spec.dag_id)} {{", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for group, members in _by_group(spec).items():
        indent = "    " if group else "  "
        if group:
            lines.append(f"  subgraph {q('cluster_' + group)} {{ label={q(group)};")
        for t in members:
            style = {NodeKind.EXTERNAL: ", shape=parallelogram, style=dashed", NodeKind.WRAPPER: ", shape=ellipse"}.get(t.kind, "")
            lines.append(f"{indent}{q(t.id)} [label={q(_label(t))}{style}];")
        if group:
            lines.append("  }")
    for t in spec.tasks:
        for u in t.upstream:
            lines.append(f"  {q(u)} -> {q(t.id)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_graph(args: argparse.Namespace) -> int:
    from luigi_fargate.cli.export import options_from_args
    from luigi_fargate.export.api import plan_export

    module, family, options = options_from_args(args)
    plan = plan_export(module, family, list(args.extra), options)
    render = {"tree": render_tree, "mermaid": render_mermaid, "dot": render_dot}[args.format]
    sys.stdout.write(render(plan.spec))
    for f in plan.findings:
        print(f"luigi-fargate: warning: {f}", file=sys.stderr)
    return 0
