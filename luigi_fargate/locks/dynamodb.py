"""``dynamodb://TABLE?region=...&ttl=SECONDS``: a lease item per task in a DynamoDB table.

Each lock is one item: ``lock_key`` (the Luigi task id), ``owner``,
``expires_at`` (epoch seconds), ``fencing_token`` (a counter bumped by every
acquisition, never reset) and ``purge_at`` (the table's TTL attribute, a day
after expiry, so DynamoDB deletes locks nobody used for a day). Every change is
a conditional write, which DynamoDB applies atomically:

* acquire: ``attribute_not_exists(lock_key) OR expires_at < :now OR owner = :me``
* renew / release: ``owner = :me AND fencing_token = :token``

A holder that dies stops renewing; ``ttl`` seconds after its last renewal any
contender takes the lease over. Expiry compares the writers' clocks, so hosts
need NTP-synchronised clocks (Fargate has them); keep ``ttl`` well above the
expected skew. boto3's standard configuration applies: credentials, and
``AWS_ENDPOINT_URL_DYNAMODB`` to point it at another endpoint.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend, LockInfo

KEY = "lock_key"
TTL_ATTRIBUTE = "purge_at"
#: DynamoDB deletes a lock item this long after its lease expired (the fencing counter restarts then).
PURGE_AFTER = 24 * 3600


class DynamoDBLease(Lease):
    def __init__(self, backend: DynamoDBLockBackend, key: str, owner: str, token: int, sent: float) -> None:
        self.backend, self.key, self.owner, self.fencing_token = backend, key, owner, token
        self.renew_interval = backend.heartbeat
        self.ttl = backend.ttl
        #: time.monotonic() until which the lease is surely ours: measured from when the
        #: write was *sent*, since DynamoDB may apply it (and start the clock) later.
        self.valid_until = sent + backend.ttl
        self._released = False

    def _ours(self) -> dict[str, Any]:
        return {
            "ConditionExpression": "#owner = :me AND fencing_token = :token",
            "ExpressionAttributeNames": {"#owner": "owner"},
        }

    def renew(self) -> None:
        from botocore.exceptions import ClientError

        sent, now = time.monotonic(), time.time()
        try:
            self.backend.client.update_item(
                TableName=self.backend.table,
                Key={KEY: {"S": self.key}},
                UpdateExpression="SET expires_at = :exp, purge_at = :purge",
                ExpressionAttributeValues={
                    ":exp": {"N": repr(now + self.ttl)},
                    ":purge": {"N": str(int(now + self.ttl + PURGE_AFTER))},
                    ":me": {"S": self.owner},
                    ":token": {"N": str(self.fencing_token)},
                },
                **self._ours(),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise LeaseLost(
                    f"{self.key}: the lease now belongs to someone else (or was broken)"
                ) from None
            raise
        self.valid_until = sent + self.ttl

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            # Expire rather than delete: the fencing counter must keep counting.
            self.backend.client.update_item(
                TableName=self.backend.table,
                Key={KEY: {"S": self.key}},
                UpdateExpression="SET expires_at = :zero, released_at = :now REMOVE #owner",
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":now": {"N": repr(time.time())},
                    ":me": {"S": self.owner},
                    ":token": {"N": str(self.fencing_token)},
                },
                **self._ours(),
            )
        except Exception:  # noqa: BLE001 - lost or unreachable: the lease expires on its own
            return


class DynamoDBLockBackend(LockBackend):
    def __init__(
        self, table: str, region: str | None = None, ttl: float = 60.0, heartbeat: float | None = None
    ) -> None:
        import boto3
        from botocore.config import Config

        self.table, self.region, self.ttl = table, region, ttl
        self.heartbeat = heartbeat if heartbeat is not None else ttl / 3
        query = f"?region={region}" if region else ""
        self.url = f"dynamodb://{table}{query}"
        # Short timeouts and few retries: the lease keeper retries within the lease itself.
        config = Config(
            connect_timeout=min(5.0, max(1.0, ttl / 3)), read_timeout=min(10.0, max(1.0, ttl / 2)),
            retries={"mode": "standard", "max_attempts": 2},
        )  # fmt: skip
        # boto3's default session: credentials, region and AWS_ENDPOINT_URL_DYNAMODB as usual.
        self.client = boto3.client("dynamodb", region_name=region, config=config)

    @classmethod
    def from_url(cls, url: str) -> DynamoDBLockBackend:
        parts = urlsplit(url)
        table = unquote(parts.netloc + parts.path).strip("/")
        if not table:
            raise UserError(f"lock URL {url!r}: no table name; use dynamodb://TABLE?region=REGION")
        query = parse_qs(parts.query)
        options: dict[str, float] = {}
        for name in ("ttl", "heartbeat"):
            if name in query:
                raw = query[name][-1]
                try:
                    options[name] = float(raw)
                except ValueError:
                    options[name] = -1.0
                if options[name] <= 0:
                    raise UserError(
                        f"lock URL {url!r}: {name}={raw!r} is not a positive number of seconds; e.g. {name}=60"
                    )
        ttl = options.get("ttl", 60.0)
        heartbeat = options.get("heartbeat")
        if heartbeat is not None and heartbeat >= ttl:
            raise UserError(
                f"lock URL {url!r}: heartbeat must be shorter than ttl; e.g. heartbeat={ttl / 3:g}"
            )
        region = query.get("region", [None])[-1]
        return cls(table, region=region, ttl=ttl, heartbeat=heartbeat)

    def _call(self, method: str, *, wrap_unreachable: bool = True, **kwargs: Any) -> dict[str, Any]:
        """A client call whose missing table (and, for the CLI, unreachable endpoint) is a UserError with the fix."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except BotoCoreError as exc:  # unreachable endpoint, no credentials, ...
            if not wrap_unreachable:
                raise
            raise UserError(
                f"lock URL {self.url!r}: can't reach DynamoDB ({exc}); check the region, credentials "
                "and AWS_ENDPOINT_URL_DYNAMODB",
                ExitCode.LOCK_NOT_ACQUIRED,
            ) from None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise UserError(
                    f"lock URL {self.url!r}: DynamoDB table {self.table!r} does not exist; "
                    f"create it with `luigi-fargate locks init --lock {self.url}`"
                ) from None
            raise

    def try_acquire(self, key: str, owner: str) -> DynamoDBLease | None:
        from botocore.exceptions import ClientError

        sent, now = time.monotonic(), time.time()
        try:
            reply = self._call(
                "update_item",
                wrap_unreachable=False,  # the lock policy retries a transient failure
                TableName=self.table,
                Key={KEY: {"S": key}},
                UpdateExpression=(
                    "SET #owner = :me, expires_at = :exp, acquired_at = :now, purge_at = :purge, "
                    "fencing_token = if_not_exists(fencing_token, :zero) + :one"
                ),
                ConditionExpression="attribute_not_exists(lock_key) OR expires_at < :now OR #owner = :me",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={
                    ":me": {"S": owner},
                    ":now": {"N": repr(now)},
                    ":exp": {"N": repr(now + self.ttl)},
                    ":purge": {"N": str(int(now + self.ttl + PURGE_AFTER))},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        token = int(reply["Attributes"]["fencing_token"]["N"])
        return DynamoDBLease(self, key, owner, token, sent)

    @staticmethod
    def _held(item: dict[str, Any] | None, now: float) -> LockInfo | None:
        """The item as a held lock, or None if it is free (released, broken or expired)."""
        if not item or "owner" not in item or float(item.get("expires_at", {}).get("N", "0")) < now:
            return None
        return LockInfo(
            key=item[KEY]["S"],
            owner=item["owner"]["S"],
            acquired_at=float(item["acquired_at"]["N"]) if "acquired_at" in item else None,
            expires_at=float(item["expires_at"]["N"]),
            fencing_token=int(item["fencing_token"]["N"]) if "fencing_token" in item else None,
        )

    def list_locks(self) -> list[LockInfo]:
        now = time.time()
        held: list[LockInfo] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._call("scan", **kwargs)
            held.extend(info for item in page.get("Items", []) if (info := self._held(item, now)))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(held, key=lambda info: info.key)

    def show(self, key: str) -> LockInfo | None:
        reply = self._call("get_item", TableName=self.table, Key={KEY: {"S": key}}, ConsistentRead=True)
        return self._held(reply.get("Item"), time.time())

    def break_lock(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            # Expire and disown, keeping the fencing counter; the holder's next renewal fails.
            self._call(
                "update_item",
                TableName=self.table,
                Key={KEY: {"S": key}},
                UpdateExpression="SET expires_at = :zero REMOVE #owner",
                ConditionExpression="attribute_exists(#owner) AND expires_at >= :now",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":zero": {"N": "0"}, ":now": {"N": repr(time.time())}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def create_table(self) -> bool:
        """Create the lock table (on-demand billing, TTL on ``purge_at``); False if it already existed."""
        from botocore.exceptions import ClientError

        created = True
        try:
            self.client.create_table(
                TableName=self.table,
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False
        self.client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        ttl = self.client.describe_time_to_live(TableName=self.table).get("TimeToLiveDescription", {})
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            self.client.update_time_to_live(
                TableName=self.table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )
        return created
