"""Fargate's prices and how a run is billed: per second, with a one-minute minimum.

Prices come from ``[luigi_fargate] price_vcpu_hour`` / ``price_gb_hour``
(defaults: us-east-1 Linux/x86 on-demand), with configured discounts for
ARM64 and FARGATE_SPOT (estimates: Spot prices vary). Everything is exact
Decimal arithmetic: a cost is kept as *dollar-seconds per hour* (seconds ×
hourly rate, exact because 1/1024 is a finite decimal) and divided by 3600
and rounded to the cent only when shown (:func:`dollars`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from luigi_fargate.config import Configuration

#: Fargate bills at least this many seconds per task (FACTS.md).
MINIMUM_BILLED_SECONDS = 60
SECONDS_PER_HOUR = 3600
CENT = Decimal("0.01")
MIB_PER_GB = 1024  # Fargate's "GB" of memory is 1024 MiB
UNITS_PER_VCPU = 1024

ARM64 = "ARM64"
SPOT = "FARGATE_SPOT"


@dataclass(frozen=True)
class FargatePricing:
    """Per-hour prices and the discounts applied on top (fractions: 0.20 = 20 % less)."""

    vcpu_hour: Decimal = Decimal("0.04048")
    gb_hour: Decimal = Decimal("0.004445")
    arm_discount: Decimal = Decimal("0.20")
    spot_discount: Decimal = Decimal("0.70")

    def hourly_rate(self, cpu_units: int, memory_mib: int, architecture: str = "X86_64", capacity: str = "FARGATE") -> Decimal:
        """Dollars per hour of one task of this size: exact (the units divide by 1024)."""
        rate = Decimal(cpu_units) / UNITS_PER_VCPU * self.vcpu_hour + Decimal(memory_mib) / MIB_PER_GB * self.gb_hour
        if architecture == ARM64:
            rate *= 1 - self.arm_discount
        if capacity == SPOT:
            rate *= 1 - self.spot_discount
        return rate


def pricing_from(c: Configuration) -> FargatePricing:
    return FargatePricing(c.get("price_vcpu_hour"), c.get("price_gb_hour"), c.get("arm_discount"), c.get("spot_discount"))


def billed_seconds(duration_us: int) -> int:
    """Fargate rounds a task's time (here in whole microseconds, exact) up to the second, and bills a minute at least."""
    return max(MINIMUM_BILLED_SECONDS, -(-max(0, duration_us) // 1_000_000))


def dollars(dollar_seconds: Decimal) -> Decimal:
    """Dollar-seconds-per-hour (seconds × hourly rate) as dollars, rounded half up to the cent: the one rounding."""
    with localcontext() as ctx:
        ctx.prec = 50
        return (dollar_seconds / SECONDS_PER_HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


def exact_dollars(dollar_seconds: Decimal) -> Decimal:
    """The same, unrounded (for further arithmetic such as a monthly projection)."""
    with localcontext() as ctx:
        ctx.prec = 50
        return dollar_seconds / SECONDS_PER_HOUR
