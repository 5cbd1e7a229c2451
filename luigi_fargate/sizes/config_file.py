"""``sizes suggest --write FILE``: the suggestions as ``[luigi_fargate.family.X]`` sections, for review.

The file is new, always: an existing file (a luigi.cfg someone maintains)
is never overwritten or merged into. Review it, then copy the sections into
the configuration. A family split by a parameter gets one section with the
largest of its sizes (a family has one size in configuration), and a comment
per parameter value.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict

from luigi_fargate.atomic_file import write_atomically
from luigi_fargate.config import FAMILY_SECTION
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import FargateSize
from luigi_fargate.sizes.suggest import SizingRule, Suggestion


def _one_line(text: str) -> str:
    """A parameter value as comment text: line breaks and other control characters escaped, so it stays a comment."""
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def _evidence(s: Suggestion) -> str:
    where = f" {_one_line(s.pattern)}:" if s.pattern else ""
    now = f"; now {s.current}" if s.current else ""
    return (f"#{where} {s.runs} runs: memory p50 {s.memory_p50:.0f} MiB, p95 {s.memory_p95:.0f} MiB, max {s.memory_max:.0f} MiB; "
            f"CPU {s.cpu_use:.2f} vCPU{now}; suggested {s.suggested}")  # fmt: skip


def config_text(suggestions: list[Suggestion], rule: SizingRule, today: dt.date | None = None) -> str:
    today = today or dt.datetime.now(dt.UTC).date()
    lines = [
        f"# Suggested by luigi-fargate sizes suggest on {today.isoformat()}: p{rule.percentile:g} of measured use x {rule.headroom:g},",
        "# rounded up to a Fargate size (docs/sizing-and-cost.md). Review, then copy into luigi.cfg.",
    ]
    by_family: dict[str, list[Suggestion]] = defaultdict(list)
    for s in suggestions:
        by_family[s.family].append(s)
    for family, items in by_family.items():
        sized = [s for s in items if s.suggested is not None]
        lines.append("")
        if not sized:
            lines.append(f"# {family}: {items[0].note}; no suggestion")
            continue
        largest: FargateSize = max((s.suggested for s in sized if s.suggested), key=lambda z: (z.cpu, z.memory))
        lines.append(f"[{FAMILY_SECTION.format(family=family)}]")
        lines += [_evidence(s) for s in sized]
        lines += [f"# {_one_line(s.pattern)}: {s.note}" for s in items if s.suggested is None]
        lines += [f"cpu = {largest.cpu}", f"memory = {largest.memory}"]
    return "\n".join(lines) + "\n"


def write_new_config(path: str, text: str) -> None:
    if os.path.lexists(path):
        raise UserError(f"--write {path}: the file exists; sizes suggest writes a new file only, for review: pass a new path")
    folder = os.path.dirname(path) or os.curdir
    if not os.path.isdir(folder):
        raise UserError(f"--write {path}: no folder {folder}; create it or pass another path")
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UserError(f"--write {path}: can't write it ({exc.strerror}); pass a path you may write") from None
