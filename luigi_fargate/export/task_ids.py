"""Airflow task ids for Luigi task instances: readable, unique, valid and stable.

A family that appears once is named after the family (``Report``). A family
with several instances adds the parameters that tell them apart
(``Clean.region-eu``). Parameters bound to the run date are named by their
binding (``Extract.date-ds-1``), not by the export date, so ids stay the same
from one run date (and one re-export) to the next.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping

MAX_LEN = 250
_INVALID = re.compile(r"[^\w.-]+")


def _clean(text: str) -> str:
    return _INVALID.sub("_", text).strip("_") or "_"


def assign(instances: Mapping[str, tuple[str, Mapping[str, str]]]) -> dict[str, str]:
    """Map Luigi task id -> Airflow task id.

    ``instances`` maps each Luigi task id to (family, id-relevant params as
    strings). Deterministic: the result depends only on the input, not on
    the order of the mapping.
    """
    by_family: dict[str, list[str]] = defaultdict(list)
    for luigi_id, (family, _) in instances.items():
        by_family[family].append(luigi_id)

    result: dict[str, str] = {}
    for family, luigi_ids in by_family.items():
        base = _clean(family)
        if len(luigi_ids) == 1:
            result[luigi_ids[0]] = base
            continue
        # Name each instance by the params whose values differ within the family.
        params = [instances[i][1] for i in luigi_ids]
        names = sorted({k for p in params for k in p})
        varying = [k for k in names if len({p.get(k) for p in params}) > 1]
        for luigi_id, p in zip(luigi_ids, params, strict=True):
            parts = [f"{_clean(k)}-{_clean(str(p.get(k, '')))}" for k in varying]
            result[luigi_id] = ".".join([base, *parts])

    # Collisions (values that clean to the same text) and overlong ids get a hash.
    seen: dict[str, list[str]] = defaultdict(list)
    for luigi_id, airflow_id in result.items():
        seen[airflow_id].append(luigi_id)
    for airflow_id, luigi_ids in seen.items():
        if len(luigi_ids) > 1 or len(airflow_id) > MAX_LEN:
            for luigi_id in luigi_ids:
                family, params = instances[luigi_id]
                identity = family + "\0" + "\0".join(f"{k}={params[k]}" for k in sorted(params))
                digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
                result[luigi_id] = f"{airflow_id[: MAX_LEN - 11]}.{digest}"
    return result
