"""Which AWS errors are worth another try, and how long to wait before it (exponential, with jitter).

A throttled or failed DescribeTasks says nothing about the ECS task: it must
never become the Airflow task's verdict. These helpers sort errors into
*transient* (throttling, 5xx, connection trouble: wait and ask again) and the
rest, and space the next try out with jitter so a thousand waiters throttled
at once don't come back at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

#: Error codes AWS uses for "slow down".
THROTTLING_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "LimitExceededException", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "ProvisionedThroughputExceededException",
})  # fmt: skip
#: Error codes of a failure on AWS's side: the same request may well work next time.
SERVER_CODES = frozenset({
    "ServerException", "InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})  # fmt: skip
_CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_throttling(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in THROTTLING_CODES


def is_transient(exc: BaseException) -> bool:
    """Throttling, a 5xx, or no answer at all: the call, not the request, failed."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error_code(exc) in THROTTLING_CODES | SERVER_CODES or int(status) >= 500
    return isinstance(exc, _CONNECTION_ERRORS) or isinstance(exc, BotoCoreError) and "connect" in str(exc).lower()


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Backoff:
    """Exponential backoff with jitter: the n-th consecutive failure waits between half and all of
    ``min(cap, base * 2**n)`` seconds. :meth:`reset` after a success."""

    base: float = 1.0
    cap: float = 60.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        self.failures += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0
