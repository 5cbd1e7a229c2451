"""The exported specs in a dags folder, read once with their exact bytes.

Deploy keeps the original text of every file so that a failure part-way can
put each file back byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from luigi_fargate.errors import UserError
from luigi_fargate.spec import PipelineSpec, SpecError

FARGATE = "fargate"


@dataclass
class SpecFile:
    """One ``<dag_id>.json`` as it is on disk now."""

    path: Path
    text: str
    spec: PipelineSpec

    @property
    def is_fargate(self) -> bool:
        return self.spec.runner.get("kind") == FARGATE

    @property
    def task_definition(self) -> str | None:
        return self.spec.runner.get("task_definition")


def load_dir(dags_dir: str | Path) -> list[SpecFile]:
    """Every spec in ``dags_dir``, all parsed before anything is changed (a broken one stops it all)."""
    root = Path(dags_dir)
    if not root.is_dir():
        raise UserError(f"--dags {str(dags_dir)!r}: not a directory; give the folder you exported the pipelines into")
    files: list[SpecFile] = []
    for path in sorted(root.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            text = path.read_text(encoding="utf-8")
            spec = PipelineSpec.from_json(text, str(path))
        except OSError as exc:
            raise UserError(f"{path}: can't read pipeline spec ({exc.strerror}); check the file") from None
        except SpecError as exc:
            raise UserError(str(exc)) from None
        files.append(SpecFile(path, text, spec))
    if not files:
        raise UserError(f"--dags {str(dags_dir)!r}: no exported specs (<dag_id>.json) found; run luigi-fargate export --out {dags_dir} first")
    return files
