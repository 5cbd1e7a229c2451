"""The exported specs in a dags folder, read once with their exact bytes.

Deploy keeps the original text of every file so that a failure part-way can
put each file back byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from luigi_fargate.errors import UserError
from luigi_fargate.spec import FargateRunner, SpecError, SpecFile, read_specs


def is_fargate(sf: SpecFile) -> bool:
    return isinstance(sf.spec.runner, FargateRunner)


def load_dir(dags_dir: str | Path) -> list[SpecFile]:
    """Every spec in ``dags_dir``, all parsed before anything is changed (a broken one stops it all)."""
    root = Path(dags_dir)
    if not root.is_dir():
        raise UserError(f"--dags {str(dags_dir)!r}: not a directory; give the folder you exported the pipelines into")
    try:
        files = read_specs(root)
    except SpecError as exc:
        raise UserError(str(exc)) from None
    if not files:
        raise UserError(f"--dags {str(dags_dir)!r}: no exported specs (<dag_id>.json) found; run luigi-fargate export --out {dags_dir} first")
    return files
