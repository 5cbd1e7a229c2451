"""luigi-fargate settings: the ``[luigi_fargate]`` section of Luigi's own configuration, loaded once.

One source, read the way Luigi reads its configuration (``luigi.cfg``,
``LUIGI_CONFIG_PATH``, ``luigi.toml``), so a team keeps one file per
environment. :func:`load` reads the section and checks every key in it at
once (a typo or a bad value anywhere is a one-line error naming the key and
the fix, before anything happens); each command then takes the view it needs
(``fargate`` settings for export, ``release`` settings for task definitions
and deploy), and a view names any key it needs that is missing. The keys
are defined once, in :mod:`luigi_fargate.config.keys`. Command-line options
and environment variables win over the file (``--lock``,
``$LUIGI_FARGATE_LOCK``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from luigi_fargate.errors import UserError
from luigi_fargate.spec import environment

SECTION = "luigi_fargate"
FAMILY_SECTION = SECTION + ".family.{family}"


def label(key: str, section: str = SECTION) -> str:
    return f"[{section}] {key}"


def _section_items(section: str) -> dict[str, Any]:
    """The raw values of one section of Luigi's configuration (cfg or TOML), without [DEFAULT]'s."""
    try:
        from luigi.configuration import get_config

        cfg = get_config()
    except ImportError:  # LUIGI_CONFIG_PARSER=toml without the toml package
        parser = os.environ.get("LUIGI_CONFIG_PARSER", "cfg")
        raise UserError(
            f"LUIGI_CONFIG_PARSER={parser}: Luigi's {parser} parser is not installed; pip install 'luigi[{parser}]' or use luigi.cfg"
        ) from None
    data = getattr(cfg, "data", None)
    if isinstance(data, dict):  # Luigi's TOML parser
        return dict(data.get(section) or {})
    if not cfg.has_section(section):
        return {}
    defaults = set(cfg.defaults())
    return {k: cfg.get(section, k) for k in cfg.options(section) if k not in defaults}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _checked(raw: Mapping[str, Any], keys: Mapping[str, Any], section: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(keys), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "docs/configuration.md lists every key"
        raise UserError(f"{label(unknown[0], section)}: unknown setting; {hint}")
    return {name: keys[name].parse(label(name, section), value) for name, value in raw.items() if not _blank(value)}


@dataclass(frozen=True)
class Configuration:
    """The checked ``[luigi_fargate]`` values (absent keys: their defaults), plus the family sections on demand."""

    values: dict[str, Any] = field(default_factory=dict)
    #: The values as written, for checks across keys that must quote what the user wrote.
    raw: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        from luigi_fargate.config.keys import KEYS

        return self.values[name] if name in self.values else KEYS[name].default

    def has(self, name: str) -> bool:
        return name in self.values

    def require(self, name: str, what: str) -> Any:
        """The value of a key ``what`` (a command) can't do without; missing: a one-line error saying so."""
        from luigi_fargate.config.keys import EXPECTED_WHEN_MISSING, KEYS

        if name not in self.values:
            expected = EXPECTED_WHEN_MISSING.get(name) or KEYS[name].form
            raise UserError(f"{label(name)}: missing; expected {expected}; add it to luigi.cfg ({what} needs it; docs/configuration.md)")
        return self.values[name]

    def family(self, family: str) -> dict[str, Any]:
        """The checked ``[luigi_fargate.family.<family>]`` values (absent keys left out)."""
        from luigi_fargate.config.keys import FAMILY_KEYS

        section = FAMILY_SECTION.format(family=family)
        return _checked(_section_items(section), FAMILY_KEYS, section)


def load(raw: Mapping[str, Any] | None = None) -> Configuration:
    """Read (or take) the raw ``[luigi_fargate]`` values and check every one of them."""
    from luigi_fargate.config.keys import KEYS

    raw = dict(_section_items(SECTION) if raw is None else raw)
    return Configuration(_checked(raw, KEYS, SECTION), raw)


def lock_url_from(cli_value: str | None) -> str:
    """The lock URL: ``--lock``, then ``$LUIGI_FARGATE_LOCK``, then ``[luigi_fargate] lock``, then the default.

    Reads only ``lock``: a container's start must not fail on a release key it never uses.
    """
    from luigi_fargate.config.keys import KEYS
    from luigi_fargate.locks.base import DEFAULT_LOCK_URL

    if cli_value or os.environ.get(environment.LOCK):
        return cli_value or os.environ[environment.LOCK]
    raw = _section_items(SECTION).get("lock")
    return DEFAULT_LOCK_URL if _blank(raw) else KEYS["lock"].parse(label("lock"), raw)
