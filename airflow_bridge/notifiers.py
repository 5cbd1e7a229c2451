"""Failure mail for an exported DAG: attached only when it can be delivered.

A spec names addresses (a crontab's MAILTO, a Luigi class's owner_email).
Airflow 3 mails them through a notifier; :class:`SmtpNotifier` needs an SMTP
connection (``[email] email_conn_id``, default ``smtp_default``), and without
one every final failure logs "SMTP connection is not found" from the failure
callback. So the DAG gets a notifier only when there is somewhere to send it:

- ``[luigi_fargate] failure_notifier`` in Airflow's configuration
  (``AIRFLOW__LUIGI_FARGATE__FAILURE_NOTIFIER``) names ``module:callable``,
  called as ``callable(to=[...], subject=...)`` for a notifier of your own
  (Slack, a ticket queue...); or
- the SMTP connection exists.

Otherwise the DAG logs one warning while it is parsed, naming the addresses,
the connection and both fixes. The connection is looked up once per process
and connection id (not per task, not per DAG file): in a plain process that
is the environment (``AIRFLOW_CONN_SMTP_DEFAULT``) and any configured secrets
backend, in the dag-processor and on workers one Execution API call, never
the metadata database directly (task-sdk ``ensure_secrets_backend_loaded``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Airflow configuration section and option naming a notifier factory ``module:callable``.
SECTION, OPTION = "luigi_fargate", "failure_notifier"
#: SmtpNotifier's own default when ``[email] email_conn_id`` is unset (the smtp provider's SmtpHook.default_conn_name).
SMTP_DEFAULT = "smtp_default"

_known_connections: dict[str, bool] = {}
_warned: set[tuple[str, ...]] = set()


def _conf_get(section: str, option: str, fallback: str | None) -> str | None:
    from airflow.sdk.configuration import conf

    value = conf.get(section, option, fallback=fallback)
    return value or fallback


def smtp_conn_id() -> str:
    """The connection SmtpNotifier mails through (its own rule: ``[email] email_conn_id``, else smtp_default)."""
    return _conf_get("email", "email_conn_id", SMTP_DEFAULT) or SMTP_DEFAULT


def connection_exists(conn_id: str) -> bool:
    """Whether Airflow can find ``conn_id`` (cached per process: DAG parsing must stay cheap)."""
    if conn_id not in _known_connections:
        from airflow.sdk import BaseHook

        try:
            BaseHook.get_connection(conn_id)
            _known_connections[conn_id] = True
        except Exception:  # noqa: BLE001 - not found, or no backend reachable while parsing: no mail either way
            _known_connections[conn_id] = False
    return _known_connections[conn_id]


def configured_factory() -> Callable[..., Any] | None:
    """The ``[luigi_fargate] failure_notifier`` factory, or None; a bad name is a parse error naming the option."""
    name = _conf_get(SECTION, OPTION, None)
    if not name:
        return None
    module, _, attr = name.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(
            f"[{SECTION}] {OPTION} = {name!r}: can't import it ({exc}); give module:callable, "
            "e.g. my_company.alerts:slack_notifier"
        ) from None


class FailureMail:
    """Makes the failure notifiers of one DAG, and says once if there is nowhere to send them."""

    def __init__(self, dag_id: str) -> None:
        self.dag_id = dag_id
        self.factory = configured_factory()
        self.conn_id = smtp_conn_id()
        self.dropped: set[str] = set()

    def notifier(self, to: list[str], subject: str) -> Any | None:
        """A notifier mailing ``to`` on failure, or None (remembered for :meth:`warn_dropped`)."""
        if not to:
            return None
        if self.factory is not None:
            return self.factory(to=list(to), subject=subject)
        if not connection_exists(self.conn_id):  # looked up only for a DAG that mails someone
            self.dropped.update(to)
            return None
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        return SmtpNotifier(to=list(to), subject=subject, smtp_conn_id=self.conn_id)

    def warn_dropped(self) -> None:
        """One warning per DAG and process (a process that parses many DAG files says it once for each)."""
        key = (self.dag_id, *sorted(self.dropped))
        if self.dropped and key not in _warned:
            _warned.add(key)
            log.warning(
                "DAG %s: failure mail to %s is off: no Airflow connection %r (SmtpNotifier's, [email] email_conn_id) "
                "and no [%s] %s; add the connection (e.g. AIRFLOW_CONN_%s) or configure a notifier",
                self.dag_id, ", ".join(sorted(self.dropped)), self.conn_id, SECTION, OPTION, self.conn_id.upper(),
            )  # fmt: skip
