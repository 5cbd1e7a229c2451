"""Docs that are generated must match the code; links between docs must resolve."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO, base_env


def test_cli_reference_matches_the_commands_help():
    proc = subprocess.run(
        [sys.executable, str(REPO / "docs/cli_reference.py")], env=base_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (REPO / "docs/cli.md").read_text(), "regenerate: python docs/cli_reference.py > docs/cli.md"


def test_relative_links_in_docs_and_readme_resolve():
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert broken == []


def test_configuration_tables_are_generated_from_the_key_definitions():
    proc = subprocess.run(
        [sys.executable, str(REPO / "docs/config_reference.py")], env=base_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    doc = (REPO / "docs/configuration.md").read_text()
    assert doc.count("<!-- keys:") == 6
    assert proc.stdout == doc, "regenerate: python docs/config_reference.py --write"
