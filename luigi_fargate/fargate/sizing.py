"""Fargate sizes: the smallest valid cpu/memory/storage combination that fits what a task asked for.

Fargate accepts only fixed cpu/memory pairs (FACTS.md). A task that asks for
3 GB on 1 vCPU would fail at RunTask time, in production, at 3 a.m.; rounding
up at export, with a warning that names the task, turns that into a review
comment. A task larger than any Fargate size can still run on an EC2 capacity
provider, where these pairs don't apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from luigi_fargate.validators import EPHEMERAL_STORAGE_GIB, FARGATE_MEMORY_BY_CPU

MAX_CPU = max(FARGATE_MEMORY_BY_CPU)  # 16 vCPU
MAX_MEMORY = max(FARGATE_MEMORY_BY_CPU[MAX_CPU])  # 120 GiB
DEFAULT_STORAGE_GIB = 20


@dataclass(frozen=True)
class FargateSize:
    """CPU units (1024 = 1 vCPU), memory in MiB, ephemeral storage in GiB (None: Fargate's 20 GiB)."""

    cpu: int
    memory: int
    ephemeral_storage_gib: int | None = None

    def to_spec(self) -> dict[str, int]:
        out = {"cpu": self.cpu, "memory": self.memory}
        if self.ephemeral_storage_gib:
            out["ephemeral_storage_gib"] = self.ephemeral_storage_gib
        return out

    def __str__(self) -> str:
        text = f"cpu={self.cpu} memory={self.memory}"
        return text + (f" ephemeral_storage_gib={self.ephemeral_storage_gib}" if self.ephemeral_storage_gib else "")


@dataclass(frozen=True)
class SizeDecision:
    """What export does with a requested size."""

    size: FargateSize
    fits_fargate: bool  # False: over Fargate's maximum, needs an EC2 capacity provider
    rounded_from: FargateSize | None = None  # set when the request was rounded up


def _round_up_pair(cpu: int | None, memory: int | None) -> tuple[int, int] | None:
    """The smallest valid (cpu, memory) with cpu >= asked and memory >= asked, or None if none exists."""
    want_cpu = cpu or 0
    want_memory = memory or 0
    for valid_cpu, memories in FARGATE_MEMORY_BY_CPU.items():  # ascending cpu
        if valid_cpu < want_cpu:
            continue
        for valid_memory in memories:  # ascending memory
            if valid_memory >= want_memory:
                return valid_cpu, valid_memory
    return None


def decide(cpu: int | None, memory: int | None, storage_gib: int | None = None) -> SizeDecision:
    """Round a requested size up to a valid Fargate size, or keep it as is when nothing on Fargate fits.

    ``cpu``/``memory`` may be None (only one of them was asked for): the
    other is the smallest value valid with it.
    """
    storage = storage_gib
    if storage is not None and storage <= DEFAULT_STORAGE_GIB:
        storage = None  # 20 GiB is what Fargate gives without asking
    low, high = EPHEMERAL_STORAGE_GIB
    asked = FargateSize(cpu or 0, memory or 0, storage)
    pair = _round_up_pair(cpu, memory)
    if pair is None or (storage is not None and storage > high):
        return SizeDecision(FargateSize(cpu or MAX_CPU, memory or MAX_MEMORY, storage), fits_fargate=False)
    size = FargateSize(pair[0], pair[1], max(storage, low) if storage is not None else None)
    changed = (cpu and cpu != size.cpu) or (memory and memory != size.memory)
    changed = changed or (storage is not None and storage != size.ephemeral_storage_gib)
    rounded = asked if changed else None
    return SizeDecision(size, fits_fargate=True, rounded_from=rounded)
