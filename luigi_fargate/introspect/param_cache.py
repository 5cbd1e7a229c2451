"""Make walking Luigi graphs cheaper: memoize ``Task.get_params`` and Luigi's config lookup while walking.

Luigi rebuilds a class's parameter list from ``dir(cls)`` on every call, and
calls it about nine times per task instance (construction, task id,
``to_str_params``...); every instance also looks its configuration up
again. On a 10,000-task graph that was most of the export time. Classes
don't grow parameters and the configuration doesn't change while a graph is
walked, so one answer each is the same answer; the originals are restored on
exit. :func:`fast_walks` also holds the cyclic garbage collector, which
otherwise rescans every task of a big graph many times over.
"""

from __future__ import annotations

import gc
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


@contextmanager
def _cached_config() -> Iterator[None]:
    from luigi import configuration

    original = configuration.get_config
    config = original()
    configuration.get_config = lambda parser=None: config if parser is None else original(parser)  # type: ignore[assignment]
    try:
        yield
    finally:
        configuration.get_config = original  # type: ignore[assignment]


@contextmanager
def fast_walks() -> Iterator[None]:
    """Everything above, for a block that walks Luigi graphs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with cached_task_params(), _cached_config():
            yield
    finally:
        if was_enabled:
            gc.enable()
