"""A synthetic Luigi graph of N tasks for benchmarks: four families, diamonds, ~2 upstream edges per task.

Node i requires nodes (i-1)//2 and (i-2)//2, so most nodes share parents
(diamonds everywhere); Root requires every node nobody else requires.
"""

from __future__ import annotations

import datetime as dt

import luigi


class _Node(luigi.Task):
    i = luigi.IntParameter()
    total = luigi.IntParameter()
    date = luigi.DateParameter(default=dt.date(2026, 11, 1))

    def requires(self):
        parents = sorted({(self.i - 1) // 2, (self.i - 2) // 2} - {self.i}) if self.i > 0 else []
        return [node(p, self.total, self.date) for p in parents if p >= 0]

    def output(self):
        return luigi.LocalTarget(f"/tmp/luigi-fargate-bench/{self.task_id}")

    def run(self):
        with self.output().open("w") as f:
            f.write("x")


class Extract(_Node):
    pass


class Transform(_Node):
    pass


class Join(_Node):
    pass


class Load(_Node):
    pass


FAMILIES = (Extract, Transform, Join, Load)


def node(i: int, total: int, date: dt.date) -> _Node:
    return FAMILIES[i % 4](i=i, total=total, date=date)


class Root(luigi.WrapperTask):
    """Export with --no-bind (bindings={}) to time one walk; bound to ds, export walks three dates."""

    total = luigi.IntParameter()
    date = luigi.DateParameter(default=dt.date(2026, 11, 1))

    def requires(self):
        return [node(i, self.total, self.date) for i in range(self.total // 2, self.total)]


class Trivial(luigi.Task):
    """For the runner-overhead benchmark: the cheapest real task."""

    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)

    def run(self):
        with self.output().open("w") as f:
            f.write("ok")
