"""The smallest valid Fargate size for what a family's runs used, with headroom, and what it saves.

Memory: the percentile (nearest rank, p95 by default) of the runs' peak RSS
times the headroom (1.25). CPU: the same percentile of CPU seconds per wall
second (the vCPUs a run kept busy) times the headroom, then the smallest
Fargate CPU with at least that many vCPUs; then the smallest memory valid
with it (luigi_fargate/fargate/sizing.py). Fewer runs than ``min_runs``: no
suggestion ("too few").

A family is split by one parameter when grouping its runs by that
parameter's value gives groups of at least ``min_runs`` runs each whose
suggested sizes differ (``region=eu`` needs 8 GiB, ``region=us`` 2 GiB); of
several such parameters the one whose groups' memory percentiles are the
furthest apart wins.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from luigi_fargate.cost.pricing import FargatePricing, billed_seconds, exact_dollars
from luigi_fargate.fargate.sizing import FargateSize, decide
from luigi_fargate.sizes.stats import nearest_rank
from luigi_fargate.sizes.usage import MeasuredRun
from luigi_fargate.validators import FARGATE_MEMORY_BY_CPU

DAYS_PER_MONTH = 30
#: Most distinct values a parameter may have to split a family by (more: it's an id or a date).
MAX_SPLIT_VALUES = 10

#: The size a family runs with now, when no run says: family -> size (from specs or configuration).
CurrentSize = Callable[[str], FargateSize | None]


@dataclass(frozen=True)
class SizingRule:
    percentile: float = 95.0
    headroom: float = 1.25
    min_runs: int = 5


@dataclass(frozen=True)
class Suggestion:
    """One family (or one parameter value of it): what its runs used, its size now, and the one proposed."""

    family: str
    pattern: str  # "" for the whole family, "region=eu" for a split
    runs: int
    memory_p50: float
    memory_p95: float
    memory_max: float
    cpu_use: float  # the percentile of vCPUs used
    current: FargateSize | None
    suggested: FargateSize | None  # None: too few runs
    fits_fargate: bool = True
    monthly_saving: Decimal | None = None  # exact dollars (negative: the suggestion costs more)

    @property
    def note(self) -> str:
        if self.suggested is None:
            return f"{self.runs} runs: too few"
        return "" if self.fits_fargate else "over Fargate's maximum: EC2 capacity"


def vcpu_units_for(vcpus: float) -> int:
    """The smallest Fargate CPU (units) with at least ``vcpus`` vCPUs; over Fargate's 16: whole vCPUs (EC2 capacity)."""
    return next((units for units in FARGATE_MEMORY_BY_CPU if units / 1024 >= vcpus), math.ceil(vcpus) * 1024)


def size_for(runs: list[MeasuredRun], rule: SizingRule) -> tuple[FargateSize, bool]:
    memory = nearest_rank([r.max_rss_mb for r in runs], rule.percentile) * rule.headroom
    cpu = vcpu_units_for(nearest_rank([r.vcpus_used for r in runs], rule.percentile) * rule.headroom)
    decision = decide(cpu, max(1, math.ceil(memory)))
    return FargateSize(decision.size.cpu, decision.size.memory), decision.fits_fargate


def _given_size(runs: list[MeasuredRun]) -> FargateSize | None:
    sizes = Counter((r.cpu, r.memory) for r in runs if r.cpu and r.memory)
    if not sizes:
        return None
    (cpu, memory), _ = sizes.most_common(1)[0]
    return FargateSize(int(cpu), int(memory))


def monthly_saving(runs: list[MeasuredRun], current: FargateSize, suggested: FargateSize, pricing: FargatePricing) -> Decimal:
    """(current - suggested) hourly rate × the billed time the observed runs take in 30 days."""
    stamps = [r.ts for r in runs if r.ts]
    days = max(1.0, (max(stamps) - min(stamps)) / 86400) if stamps else 1.0
    seconds = sum(billed_seconds(round(r.wall_s * 1_000_000)) for r in runs)
    difference = pricing.hourly_rate(current.cpu, current.memory) - pricing.hourly_rate(suggested.cpu, suggested.memory)
    return exact_dollars(difference * seconds * DAYS_PER_MONTH / Decimal(repr(days)))


def _suggestion(family: str, pattern: str, runs: list[MeasuredRun], rule: SizingRule, current: FargateSize | None,
                pricing: FargatePricing) -> Suggestion:  # fmt: skip
    rss = [r.max_rss_mb for r in runs]
    current = _given_size(runs) or current
    enough = len(runs) >= rule.min_runs
    suggested, fits = size_for(runs, rule) if enough else (None, True)
    saving = monthly_saving(runs, current, suggested, pricing) if suggested and current and fits else None
    return Suggestion(
        family, pattern, len(runs), nearest_rank(rss, 50), nearest_rank(rss, rule.percentile), max(rss),
        nearest_rank([r.vcpus_used for r in runs], rule.percentile), current, suggested, fits, saving,
    )  # fmt: skip


def split_parameter(runs: list[MeasuredRun], rule: SizingRule) -> str | None:
    """The parameter whose values need different sizes (each value with enough runs), or None."""
    best: tuple[float, str] | None = None
    for name in sorted({name for r in runs for name in r.params}):
        groups: dict[str, list[MeasuredRun]] = defaultdict(list)
        for r in runs:
            groups[r.params.get(name, "")].append(r)
        if not 2 <= len(groups) <= MAX_SPLIT_VALUES or any(len(g) < rule.min_runs for g in groups.values()):
            continue
        if len({size_for(g, rule)[0] for g in groups.values()}) < 2:
            continue
        p95s = [nearest_rank([r.max_rss_mb for r in g], rule.percentile) for g in groups.values()]
        spread = max(p95s) / max(min(p95s), 1e-9)
        if best is None or spread > best[0]:
            best = (spread, name)
    return best[1] if best else None


def suggest(runs: Iterable[MeasuredRun], rule: SizingRule, current_size: CurrentSize, pricing: FargatePricing) -> list[Suggestion]:
    """One suggestion per family, or one per value of the parameter that splits it; sorted by family."""
    by_family: dict[str, list[MeasuredRun]] = defaultdict(list)
    for r in runs:
        by_family[r.family].append(r)
    out: list[Suggestion] = []
    for family in sorted(by_family):
        family_runs = by_family[family]
        current = current_size(family)
        name = split_parameter(family_runs, rule)
        if name is None:
            out.append(_suggestion(family, "", family_runs, rule, current, pricing))
            continue
        groups: dict[str, list[MeasuredRun]] = defaultdict(list)
        for r in family_runs:
            groups[r.params.get(name, "")].append(r)
        out.extend(_suggestion(family, f"{name}={value}", groups[value], rule, current, pricing) for value in sorted(groups))
    return out
