"""Luigi's own failure e-mails, off while the runner's task runs: Airflow's notifier is the one alert.

Luigi's worker mails ``owner_email`` and ``[email] receiver`` (``[core]
error-email``) when a task fails, from wherever the task runs, over ``[smtp]``
(localhost by default), SES, SNS or SendGrid; its in-process scheduler mails
the receiver when it disables a task. In a runner that is a second alert
beside Airflow's notifier where a relay exists, and a connection attempt to
nowhere where none does.

Every one of those mails goes through ``luigi.notifications.send_error_email``
(the worker's ``_email_error`` and ``_handle_task_load_error``, the
scheduler's "DISABLED" mail), looked up on the module at each call. The
runner replaces that one function for the duration of the run, and puts it
back afterwards: ``[worker] send_failure_email`` alone would leave the
"framework error" mails, which Luigi sends even when it is off, and ``[email]
format = none`` would also silence mails a task sends on purpose through
``luigi.notifications.send_email`` (a report), which still go out. No
configuration file or setting is touched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)


def _not_sent(subject: str, message: str, additional_recipients: Any = None) -> None:
    logger.debug("Luigi's error e-mail %r not sent: Airflow alerts on the task's failure", subject)


@contextlib.contextmanager
def luigi_email_off() -> Iterator[None]:
    """Luigi's error e-mails (worker and scheduler) send nothing for the duration of the block."""
    from luigi import notifications

    original = notifications.send_error_email
    notifications.send_error_email = _not_sent
    try:
        yield
    finally:
        notifications.send_error_email = original
