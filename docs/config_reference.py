"""Write the key tables of docs/configuration.md from luigi_fargate/config/keys.py, so they can't drift.

    .venv/bin/python docs/config_reference.py --write

Each table sits between ``<!-- keys:GROUP -->`` and ``<!-- /keys -->``;
tests/test_docs.py fails when one is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from luigi_fargate.config.keys import FAMILY_KEYS, GROUPS, KEYS, Key  # noqa: E402

DOC = Path(__file__).resolve().parent / "configuration.md"
BLOCK = re.compile(r"(<!-- keys:(\w+) -->\n).*?(<!-- /keys -->)", re.S)


def table(keys: list[Key]) -> str:
    rows = ["| key | expected form | default | meaning |", "|---|---|---|---|"]
    rows += [f"| `{k.name}` | {k.form} | {k.default_text()} | {k.meaning} |" for k in keys]
    return "\n".join(rows) + "\n"


def tables() -> dict[str, str]:
    out = {group: table([k for k in KEYS.values() if k.group == group]) for group in GROUPS if group != "family"}
    out["family"] = table(list(FAMILY_KEYS.values()))
    return out


def rendered(text: str) -> str:
    generated = tables()
    return BLOCK.sub(lambda m: m[1] + generated[m[2]] + m[3], text)


if __name__ == "__main__":
    current = DOC.read_text()
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(rendered(current))
    else:
        sys.stdout.write(rendered(current))
