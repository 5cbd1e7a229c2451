"""Memoize Luigi's ``Task.get_params`` while exporting.

Luigi rebuilds a class's parameter list from ``dir(cls)`` on every call, and
calls it about nine times per task instance (construction, task id,
``to_str_params``...). On a 10,000-task graph that was most of the export
time. Classes don't grow parameters while a graph is walked, so one list per
class is the same answer; the original method is restored on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cached_task_params() -> Iterator[None]:
    import luigi

    original = luigi.Task.__dict__["get_params"]
    compute = original.__func__
    cache: dict[type, list] = {}

    def get_params(cls):  # type: ignore[no-untyped-def]
        params = cache.get(cls)
        if params is None:
            params = cache[cls] = compute(cls)
        return list(params)

    luigi.Task.get_params = classmethod(get_params)  # type: ignore[method-assign]
    try:
        yield
    finally:
        luigi.Task.get_params = original  # type: ignore[method-assign]
