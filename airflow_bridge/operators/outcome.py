"""What a runner exit code means for Airflow: succeed, fail and retry, or fail for good."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from luigi_fargate.exit_codes import ExitCode, describe

#: Exit codes that a retry can't fix: the invocation or the export is wrong.
NOT_RETRYABLE = frozenset({ExitCode.BAD_INVOCATION, ExitCode.NOT_ALLOWED, ExitCode.GRAPH_MISMATCH})


def raise_for_exit_code(code: int | None, task_label: str, detail: str = "") -> None:
    """Return on success; skip (exit 9) or raise with the exit code's meaning in words."""
    if code == ExitCode.DONE:
        return
    message = f"Luigi task {task_label}: {describe(code)}"
    if code == ExitCode.NOT_IN_THIS_RUN:
        raise AirflowSkipException(message)
    if detail:
        message += f"\n{detail}"
    if code in NOT_RETRYABLE:
        raise AirflowFailException(message)
    raise AirflowException(message)
