"""Which task families this image may run: the families of the specs baked into it.

Decided before anything is imported, so a crafted command can't make the
container import (and run import-time code of) anything else. The image
fixes the allowlist:

- ``$LUIGI_FARGATE_ALLOW`` set (the image's ``ENV``): that spec or folder of
  specs, and nothing else. Set but empty allows nothing. ``--allow`` may only
  narrow it (a spec inside that folder); ``--allow-any`` is refused.
- not set: ``--allow SPEC_OR_DIR`` (the local runner passes the DAG's spec),
  or ``--allow-any`` for local use; neither is refused.

The runner's options only count before MODULE (see ``luigi_fargate.cli.run``),
so nothing later on the command line can widen the allowlist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.spec import PipelineSpec, SpecError, environment, spec_files

ENV_VAR = environment.ALLOW

Family = tuple[str, str]  # (module, family)


@dataclass(frozen=True)
class AllowedSpec:
    """What one exported spec lets the image run."""

    path: str
    families: frozenset[Family]
    #: Roots of the graphs its tasks belong to (what a graph check may rebuild).
    roots: frozenset[Family]
    #: The spec itself: the graph check reads its run-date rules from here, never from the check.
    spec: PipelineSpec

    @classmethod
    def load(cls, path: Path) -> AllowedSpec:
        try:
            spec = PipelineSpec.load(path)
        except SpecError as exc:
            raise UserError(f"allowlist: {exc}", ExitCode.NOT_ALLOWED) from None
        roots = {(node.module, node.family) for node in spec.tasks if node.id == spec.root}
        if spec.graph is not None:  # the graph check's root (it may be left out of a partial export)
            roots.add((spec.graph.root_module, spec.graph.root_family))
        return cls(str(path), frozenset(spec.families()), frozenset(roots), spec)


@dataclass(frozen=True)
class Allowlist:
    """The families this run may import and run; ``specs is None`` means any (``--allow-any``)."""

    source: str  # for messages: where the allowlist came from
    specs: tuple[AllowedSpec, ...] | None

    def check_task(self, module: str, family: str) -> None:
        """Raise UserError (exit 3) unless ``module.family`` is allowlisted."""
        if self.specs is None or any((module, family) in s.families for s in self.specs):
            return
        raise UserError(
            f"task {module}.{family} is not in the allowlist {self.source}; export it into that folder first",
            ExitCode.NOT_ALLOWED,
        )

    def spec_of(self, dag_id: str) -> PipelineSpec:
        """The allowlisted spec of DAG ``dag_id``: where the graph check's rules come from (exit 3 without one)."""
        if self.specs is None:
            raise UserError(
                f"the graph check for DAG {dag_id!r} needs its spec: pass --allow SPEC_OR_DIR or set {ENV_VAR}",
                ExitCode.NOT_ALLOWED,
            )
        for allowed in self.specs:
            if allowed.spec.dag_id == dag_id:
                return allowed.spec
        raise UserError(
            f"DAG {dag_id!r} has no spec in the allowlist {self.source}; rebuild the image with the exported specs",
            ExitCode.NOT_ALLOWED,
        )

    def check_graph_root(self, module: str, family: str, root: Family) -> None:
        """Raise UserError (exit 3) unless ``root`` is the root of an allowlisted spec that holds this task."""
        if self.specs is None or any((module, family) in s.families and root in s.roots for s in self.specs):
            return
        raise UserError(
            f"graph check: root {root[0]}.{root[1]} is not the root of a spec in the allowlist {self.source} "
            f"that holds {module}.{family}; re-export the DAG (the check comes from its spec)",
            ExitCode.NOT_ALLOWED,
        )


def resolve(allow: str | None, allow_any: bool, environ: Mapping[str, str] | None = None) -> Allowlist:
    """The allowlist for this run, from the image's environment and the options before MODULE."""
    env = os.environ if environ is None else environ
    fixed = env.get(ENV_VAR)
    if fixed is None:
        if allow:
            return load(allow, f"--allow {allow}")
        if allow_any:
            return Allowlist("--allow-any", None)
        raise UserError(
            f"no allowlist: pass --allow SPEC_OR_DIR or set {ENV_VAR} (or --allow-any to run any task, not for images)",
            ExitCode.NOT_ALLOWED,
        )
    if allow_any:
        raise UserError(
            f"--allow-any: this image fixes its allowlist (${ENV_VAR}={fixed}); drop --allow-any",
            ExitCode.NOT_ALLOWED,
        )
    if not fixed:
        return Allowlist(f"${ENV_VAR} (set but empty: this image allows no task; point it at the baked specs)", ())
    if allow and not _within(allow, fixed):
        raise UserError(
            f"--allow {allow}: outside this image's allowlist ${ENV_VAR}={fixed}; drop --allow or name a spec in it",
            ExitCode.NOT_ALLOWED,
        )
    return load(allow, f"--allow {allow} (within ${ENV_VAR})") if allow else load(fixed, f"${ENV_VAR}={fixed}")


def _within(path: str, root: str) -> bool:
    """``path`` is ``root`` or inside it, after resolving symlinks and ``..``."""
    inner, outer = os.path.realpath(path), os.path.realpath(root)
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def load(path: str, source: str) -> Allowlist:
    """The specs of a spec file, or of every spec in a folder (deploy's dot-file history is not one)."""
    p = Path(path)
    if not p.exists():
        raise UserError(
            f"allowlist {path!r} does not exist; point --allow or {ENV_VAR} at an exported spec or folder",
            ExitCode.NOT_ALLOWED,
        )
    return Allowlist(source, tuple(AllowedSpec.load(f) for f in spec_files(p)))
