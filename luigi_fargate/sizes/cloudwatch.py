"""Usage events from CloudWatch Logs: the runner's JSON lines (``--log-format json``) in the tasks' log group.

``FilterLogEvents`` with the filter pattern ``{ $.event = "usage" }`` over
the period, through boto3's paginator (it follows ``nextToken``). Throttling
is retried by botocore's ``adaptive`` retry mode (a client-side rate limiter
plus exponential backoff on ThrottlingException), up to 10 attempts a call.
boto3 is imported here only, when a log group is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from luigi_fargate.errors import UserError
from luigi_fargate.sizes.usage import MeasuredRun, runs_from_lines

USAGE_FILTER = '{ $.event = "usage" }'
RETRIES = {"mode": "adaptive", "max_attempts": 10}


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def usage_lines(log_group: str, region: str, since: dt.datetime, until: dt.datetime | None, page_size: int | None = None) -> Iterator[str]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("logs", region_name=region, config=Config(retries=RETRIES))
    query = {"logGroupName": log_group, "filterPattern": USAGE_FILTER, "startTime": _millis(since)}
    if until is not None:
        query["endTime"] = _millis(until)
    pagination = {"PageSize": page_size} if page_size else {}
    try:
        for page in client.get_paginator("filter_log_events").paginate(**query, PaginationConfig=pagination):
            for event in page.get("events", []):
                yield event.get("message", "")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(f"--log-group {log_group}: CloudWatch Logs said {error.get('Code')}: {error.get('Message')}; check the name, region and credentials") from None
    except BotoCoreError as exc:
        raise UserError(f"--log-group {log_group}: can't reach CloudWatch Logs ({exc}); check the region and credentials") from None


def runs_from_log_group(log_group: str, region: str, since: dt.datetime, until: dt.datetime | None, page_size: int | None = None) -> list[MeasuredRun]:
    lines = usage_lines(log_group, region, since, until, page_size)
    return list(runs_from_lines(lines, f"--log-group {log_group} usage event", "narrow --since/--until to leave it out"))
