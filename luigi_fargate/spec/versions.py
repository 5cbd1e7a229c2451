"""Older spec versions, upgraded on load: a DAG exported by an older luigi-fargate keeps working.

Version 1 (luigi-fargate 0.1) kept the runner's arguments as one list of
strings (``["--date", "{{ ds }}"]``) next to the templates, the runner and
the settings as free-form objects, and the graph check copied into every
task. Its daily templates (``{{ ds }}``, ``{{ macros.ds_add(ds, N) }}``)
become run-date rules; other templates stay as written, which the runner's
graph check and ``verify`` can't evaluate (re-export to check them). ``luigi-fargate deploy`` rewrites the specs it touches in the newest
version; re-exporting does too.

Version 2 wrote templates that only render for runs with a logical date
(``{{ ds }}``, ``data_interval_start``): Airflow 3 also makes runs without
one, whose context lacks those names. Version 3 reads every date through
``dag_run`` (luigi_fargate/spec/dates.py); a version-2 spec's generated
templates are respelled that way on load, and its nodes gain the fields
version 3 added (documentation, readable names), empty.
"""

from __future__ import annotations

import re
from typing import Any

from luigi_fargate.spec.dates import DS_JINJA, INSTANT_JINJA, RunSource
from luigi_fargate.spec.errors import SpecError

#: The version export writes. Anything that changes meaning bumps it; older versions are upgraded below.
SCHEMA_VERSION = 3

#: Version 1's daily templates, which version 2 writes the same way from a rule.
_V1_DAY = re.compile(r"^\{\{ (?:ds|macros\.ds_add\(ds, (?P<offset>-?\d+)\)) \}\}$")

KNOWN_VERSIONS = (1, 2, SCHEMA_VERSION)

#: Version 2's spellings that need a logical date, and version 3's for the same value.
_V2_DS = "{{ ds }}"
_V2_DS_ADD = re.compile(r"macros\.ds_add\(ds, ")
_V2_INTERVAL = re.compile(r"(?<![\w.])data_interval_(start|end)(?!\w)")


def upgrade(data: dict[str, Any], source: str) -> dict[str, Any]:
    """``data`` in the newest schema version (a new dict when it was older)."""
    version = data.get("schema_version")
    if version == SCHEMA_VERSION:
        return data
    if version in (1, 2):
        try:
            return _from_v2(_from_v1(data) if version == 1 else data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(
                f"{source}: malformed version-{version} pipeline spec ({type(exc).__name__}: {exc}); re-export the pipeline"
            ) from None
    known = ", ".join(str(v) for v in KNOWN_VERSIONS)
    raise SpecError(
        f"{source}: unknown spec schema_version {version!r} (this luigi-fargate reads {known}); "
        "re-export the pipeline with this version or upgrade luigi-fargate"
    )


def _day_rule_v1(template: str | None) -> dict[str, Any] | None:
    """The rule of a version-1 ``{{ ds }}`` / ``{{ macros.ds_add(ds, N) }}`` template (others stay unchecked)."""
    m = _V1_DAY.match(template or "")
    if not m:
        return None
    return {"unit": "day", "offset": int(m["offset"])} if m["offset"] and int(m["offset"]) else {"unit": "day"}


def _params_v1(args: list[str], values: dict[str, str], templates: dict[str, str]) -> list[dict[str, Any]]:
    """Version 1's ``--name value`` list (bare ``--name`` for flags) as parameter objects."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(args):
        name = args[i][2:].replace("-", "_")
        nxt = args[i + 1] if i + 1 < len(args) else None
        if nxt is not None and (nxt == values.get(name) or nxt == templates.get(name) or not nxt.startswith("--")):
            param: dict[str, Any] = {"name": name, "value": values.get(name, nxt)}
            if name in templates:
                param["template"] = templates[name]
                rule = _day_rule_v1(templates[name])
                if rule is not None:
                    param["rule"] = rule
            out.append(param)
            i += 2
        else:
            out.append({"name": name, "value": values.get(name, "True"), "flag": True})
            i += 1
    return out


_SETTINGS_V1 = (
    "owner", "email", "retries", "retry_delay_seconds", "retry_exponential_backoff", "max_retry_delay_seconds",
    "execution_timeout_seconds", "priority_weight", "pool", "pool_slots", "other_resources", "queue",
    "sensor_poke_interval_seconds", "sensor_timeout_seconds", "capacity", "tags",
)  # fmt: skip


_RETRY_TIMING = ("retry_delay_seconds", "retry_exponential_backoff", "max_retry_delay_seconds")


def _settings_v1(settings: dict[str, Any]) -> dict[str, Any]:
    """Version 1 copied Luigi's retry_count as Airflow retries: one attempt too many (retry_count N is N attempts)."""
    out = {k: settings[k] for k in _SETTINGS_V1 if k in settings}
    if out.get("retries") is not None:
        out["retries"] = max(int(out["retries"]) - 1, 0)
        if not out["retries"]:
            for key in _RETRY_TIMING:
                out.pop(key, None)
    return out


def _task_v1(t: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    settings = dict(t.get("settings") or {})
    check = settings.pop("graph_check", None)
    node = {k: t[k] for k in ("id", "task_id", "module", "family") if k in t}
    node["params"] = _params_v1(list(t.get("args") or []), dict(t.get("params") or {}), dict(t.get("param_templates") or {}))
    for key in ("upstream", "kind", "notes", "group"):
        if t.get(key) not in (None, [], ""):
            node[key] = t[key]
    node["settings"] = _settings_v1(settings)
    if t.get("size"):
        node["size"] = dict(t["size"])
    return node, check


def _runner_v1(runner: dict[str, Any]) -> dict[str, Any]:
    runner = dict(runner)
    if runner.get("kind", "local") == "local":
        return {k: v for k, v in runner.items() if k in ("kind", "cwd")}
    strategy = runner.pop("capacity_provider_strategy", None) or [{"capacityProvider": "FARGATE"}]
    runner["capacity"] = strategy[0]["capacityProvider"]
    runner["ec2_capacity_provider_strategy"] = [
        {"capacity_provider": s["capacityProvider"], "weight": int(s.get("weight", 1)), "base": int(s.get("base", 0))}
        for s in runner.get("ec2_capacity_provider_strategy") or []
    ]
    return {k: v for k, v in runner.items() if v is not None}


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    tasks, checks = [], []
    for t in data["tasks"]:
        node, check = _task_v1(t)
        tasks.append(node)
        if check:
            checks.append(check)
    out: dict[str, Any] = {"schema_version": 2, "dag_id": data["dag_id"], "root": data["root"], "tasks": tasks}
    for key in ("schedule", "start_date", "catchup", "bindings", "tags", "description", "env"):
        if data.get(key) not in (None, {}, []):
            out[key] = data[key]
    out["runner"] = _runner_v1(data.get("runner") or {"kind": "local"})
    defaults = dict(data.get("defaults") or {})
    out["defaults"] = {k: defaults[k] for k in ("owner", "email", "execution_timeout_seconds") if k in defaults}
    if checks:
        module, family, *args = checks[0]["root"]
        root = next((t for t in data["tasks"] if t.get("module") == module and t.get("family") == family), {})
        params = _params_v1(args, dict(root.get("params") or {}), dict(root.get("param_templates") or {}))
        for p in params:  # the root left out of a partial export: its templates are only in the check
            if "template" not in p and "{{" in str(p["value"]):
                p["template"] = p["value"]
                rule = _day_rule_v1(p["template"])
                if rule is not None:
                    p["rule"] = rule
        out["graph"] = {"root_module": module, "root_family": family, "root_params": params}
        run_date = _run_date_v1(out)
        if run_date is not None:
            out["graph"]["run_date"] = run_date
    return out


def _run_date_v1(spec: dict[str, Any]) -> dict[str, Any] | None:
    """A daily run date in UTC when every template of the spec is a version-1 daily one (else none: unchecked)."""
    bindings = spec.get("bindings") or {}
    if len(bindings) != 1 or not re.match(r"^(ds|logical_date)([+-]\d+)?$", next(iter(bindings.values()))):
        return None
    params = [p for t in spec["tasks"] for p in t["params"]] + spec["graph"]["root_params"]
    if any("template" in p and "rule" not in p for p in params):
        return None
    return {"unit": "day"}


def null_safe_template(template: str) -> str:
    """A version-2 template respelled to render for runs without a logical date too (same value otherwise)."""
    out = template.replace(_V2_DS, "{{ " + DS_JINJA + " }}")
    out = _V2_DS_ADD.sub(lambda _: "macros.ds_add(" + DS_JINJA + ", ", out)
    sources = {"start": RunSource.DATA_INTERVAL_START, "end": RunSource.DATA_INTERVAL_END}
    return _V2_INTERVAL.sub(lambda m: INSTANT_JINJA[sources[m[1]]], out)


def _from_v2(data: dict[str, Any]) -> dict[str, Any]:
    out = {**data, "schema_version": SCHEMA_VERSION, "tasks": [dict(t) for t in data["tasks"]]}
    params = [t.setdefault("params", []) for t in out["tasks"]]
    if out.get("graph"):
        out["graph"] = dict(out["graph"])
        params.append(out["graph"].setdefault("root_params", []))
    for plist in params:
        for i, p in enumerate(plist):
            if p.get("template"):
                plist[i] = {**p, "template": null_safe_template(p["template"])}
    return out
