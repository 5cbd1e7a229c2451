"""What the exported DAG tells people: each Luigi class's own documentation, and the DAG's tags.

Captured here, at export, because the Airflow side builds the DAG from the
spec alone and never imports Luigi or the user's module: the docstring and
the parameters' ``description=`` travel in the spec (``PipelineSpec.docs``),
and airflow_bridge writes them into each task's ``doc_md``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from luigi_fargate.spec import FamilyDoc

if TYPE_CHECKING:
    import luigi
    import networkx as nx

#: Airflow keeps a DAG tag in a 100-character column; longer ones are cut, not refused.
TAG_MAX = 100
#: The ``[luigi_fargate] tags`` key naming the team that owns a pipeline (also an ECS cost-allocation tag).
TEAM_TAG = "team"


def family_doc(task: luigi.Task) -> FamilyDoc | None:
    """The class's docstring (not luigi.Task's own) and its parameter descriptions; None when it has neither."""
    cls = type(task)
    doc = ""
    for base in cls.__mro__:  # the nearest docstring, a user base class's too, but not Luigi's own
        text = base.__dict__.get("__doc__")
        if text and text.strip():
            doc = "" if base.__module__.split(".")[0] == "luigi" else inspect.cleandoc(text)
            break
    params = {name: str(p.description) for name, p in cls.get_params() if getattr(p, "description", None)}
    return FamilyDoc(doc, params) if doc or params else None


def family_docs(exported: nx.DiGraph) -> dict[str, FamilyDoc]:
    """One entry per exported family that documents itself, in family order (stable specs)."""
    out: dict[str, FamilyDoc] = {}
    for _, data in exported.nodes(data=True):
        task = data["task"]
        family = task.get_task_family()
        if family not in out:
            doc = family_doc(task)
            if doc is not None:
                out[family] = doc
    return dict(sorted(out.items()))


def dag_tags(module: str, family: str, team: str | None, extra: list[str]) -> list[str]:
    """``luigi-fargate``, ``module:…``, ``family:…``, ``team:…`` and the caller's own, each once, in that order.

    Tags are how the Airflow UI filters DAGs: by the Luigi module, the root's
    family and the team that owns it (``[luigi_fargate] tags = team=…``).
    """
    tags = ["luigi-fargate", f"module:{module}", f"family:{family}"]
    if team:
        tags.append(f"team:{team}")
    return list(dict.fromkeys(t[:TAG_MAX] for t in [*tags, *extra]))
