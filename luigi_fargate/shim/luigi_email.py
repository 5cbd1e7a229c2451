"""Luigi's own error e-mails, off while the runner's task runs: Airflow's notifier is the one alert.

Luigi's worker mails ``owner_email`` and ``[email] receiver`` (``[core]
error-email``) on a failure, from wherever the task runs, over ``[smtp]``
(localhost:25 by default) or SES / SNS / SendGrid. In a runner that is a
second alert beside Airflow's notifier where a relay exists, and a
connection attempt to nowhere where none does. Every one of those mails goes
through ``luigi.notifications.send_email``, which sends nothing when
``[email] format`` is ``none`` (``_email_disabled_reason``), whatever the
method or the recipients, the "unexpected error" mails that ignore
``[worker] send_failure_email`` included. The runner sets that one option in
Luigi's in-process configuration for the run and puts it back afterwards;
no file is touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

SECTION, OPTION, OFF = "email", "format", "none"


@contextlib.contextmanager
def luigi_email_off() -> Iterator[None]:
    """``[email] format = none`` for the duration of the block, as luigi.cfg had it before afterwards."""
    from luigi.configuration import get_config

    config = get_config()
    had = config.has_option(SECTION, OPTION)
    previous = config.get(SECTION, OPTION, raw=True) if had else None
    config.set(SECTION, OPTION, OFF)
    try:
        yield
    finally:
        if had:
            config.set(SECTION, OPTION, previous)
        else:
            _unset(config)


def _unset(config: Any) -> None:
    data = getattr(config, "data", None)
    if isinstance(data, dict):
        # LuigiTomlParser keeps its values in .data, not in ConfigParser's sections.
        data.get(SECTION, {}).pop(OPTION, None)
    else:
        config.remove_option(SECTION, OPTION)
