"""luigi-fargate settings: the ``[luigi_fargate]`` section of Luigi's own configuration.

One source, read the way Luigi reads its configuration (``luigi.cfg``,
``LUIGI_CONFIG_PATH``, ``luigi.toml``), so a team keeps one file per
environment. Command-line options and environment variables win over it.
"""

from __future__ import annotations

import os

from luigi_fargate.locks.base import DEFAULT_LOCK_URL

SECTION = "luigi_fargate"
LOCK_ENV = "LUIGI_FARGATE_LOCK"


def get(key: str, default: str | None = None) -> str | None:
    """A raw value from ``[luigi_fargate]`` (imports Luigi's config reader lazily)."""
    from luigi.configuration import get_config

    return get_config().get(SECTION, key, default)


def lock_url_from(cli_value: str | None) -> str:
    """The lock URL: ``--lock``, then ``$LUIGI_FARGATE_LOCK``, then ``[luigi_fargate] lock``, then the default."""
    return cli_value or os.environ.get(LOCK_ENV) or get("lock") or DEFAULT_LOCK_URL
