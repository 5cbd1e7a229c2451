"""Read deploy/Dockerfile: its instructions, and the facts the tests check against the package.

No Docker engine here, so the tests read the file: a small parser is enough
for the one Dockerfile we ship (continuation lines, comments, exec-form JSON).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ENV, USER, ENTRYPOINT, ...
    args: str  # the rest of the logical line, continuations joined


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    result: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, f"{path}: the last instruction ends with a line continuation"
    return result


def of(keyword: str, path: Path = DOCKERFILE) -> list[Instruction]:
    return [i for i in instructions(path) if i.keyword == keyword]


def env_vars(path: Path = DOCKERFILE) -> dict[str, str]:
    """Every ``ENV KEY=VALUE ...`` (the ``KEY=VALUE`` form only, which is what we ship)."""
    found: dict[str, str] = {}
    for instr in of("ENV", path):
        for pair in shlex.split(instr.args):
            key, sep, value = pair.partition("=")
            assert sep, f"ENV {instr.args!r}: use the KEY=VALUE form"
            found[key] = value
    return found


def exec_form(instr: Instruction) -> list[str]:
    """The JSON list of an exec-form ENTRYPOINT/CMD; fails for the shell form."""
    value = json.loads(instr.args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), instr
    return value


def copies(path: Path = DOCKERFILE) -> list[tuple[list[str], str]]:
    """``COPY src... dest`` as (sources, destination)."""
    result = []
    for instr in of("COPY", path):
        parts = shlex.split(instr.args)
        parts = [p for p in parts if not p.startswith("--")]
        result.append((parts[:-1], parts[-1]))
    return result


def run_commands(path: Path = DOCKERFILE) -> list[list[str]]:
    """Every RUN as commands: shell words, split at ``&&``."""
    commands: list[list[str]] = []
    for instr in of("RUN", path):
        words: list[str] = []
        for word in shlex.split(instr.args):
            if word == "&&":
                commands.append(words)
                words = []
            else:
                words.append(word)
        commands.append(words)
    return commands


def luigi_fargate_commands(path: Path = DOCKERFILE) -> list[list[str]]:
    """The RUN commands that call ``luigi-fargate``, without the program name."""
    return [cmd[1:] for cmd in run_commands(path) if cmd and cmd[0] == "luigi-fargate"]
