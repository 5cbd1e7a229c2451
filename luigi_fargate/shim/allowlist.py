"""Which task families this image may run: the families of the specs baked into it.

Checked before the named module is imported, so a crafted command can't make
the container import (and run import-time code of) anything else.
"""

from __future__ import annotations

import os
from pathlib import Path

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.spec import PipelineSpec, SpecError

ENV_VAR = "LUIGI_FARGATE_ALLOW"


def allowed_families(path: str) -> set[tuple[str, str]]:
    """(module, family) pairs from a spec file or every ``*.json`` spec in a folder."""
    p = Path(path)
    files = sorted(p.glob("*.json")) if p.is_dir() else [p]
    if not p.exists():
        raise UserError(f"allowlist {path!r} does not exist; point --allow or {ENV_VAR} at an exported spec or folder", ExitCode.NOT_ALLOWED)
    allowed: set[tuple[str, str]] = set()
    for f in files:
        try:
            allowed |= PipelineSpec.load(f).families()
        except SpecError as exc:
            raise UserError(f"allowlist: {exc}", ExitCode.NOT_ALLOWED) from None
    return allowed


def check_allowed(module: str, family: str, allow: str | None, allow_any: bool) -> None:
    """Raise UserError (exit 3) unless ``module.family`` is allowlisted."""
    source = allow or os.environ.get(ENV_VAR)
    if not source:
        if allow_any:
            return
        raise UserError(
            f"no allowlist: pass --allow SPEC_OR_DIR or set {ENV_VAR} (or --allow-any to run any task, not for images)",
            ExitCode.NOT_ALLOWED,
        )
    if (module, family) not in allowed_families(source):
        raise UserError(f"task {module}.{family} is not in the allowlist {source}; export it into that folder first", ExitCode.NOT_ALLOWED)
