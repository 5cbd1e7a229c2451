"""A pipeline with an external input, a Luigi priority and documented classes (tests/export/test_dag_presentation.py).

    Landed (ExternalTask) ── Ingest ──┐
    Reference (priority 100) ─────────┼── Report
                  └── Enrich ─────────┘
"""

from __future__ import annotations

import os

import luigi


def _path(*parts: str) -> str:
    return os.path.join(os.environ.get("EXAMPLE_DATA_DIR", "data"), *parts)


class Landed(luigi.ExternalTask):
    """The partner's daily drop, written by their SFTP job: we only wait for it."""

    date = luigi.DateParameter(description="the drop's business day")

    def output(self):
        return luigi.LocalTarget(_path(f"{self.date:%Y-%m-%d}", "landed.csv"))


class _Written(luigi.Task):
    date = luigi.DateParameter(description="business day")

    def output(self):
        return luigi.LocalTarget(_path(f"{self.date:%Y-%m-%d}", f"{self.get_task_family()}.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write(self.get_task_family())


class Ingest(_Written):
    """Load the partner's drop into the ledger | one row per line."""

    owner_email = "owner@example.com"

    def requires(self):
        return Landed(date=self.date)


class Reference(_Written):
    """Reference tables, slow and important: Luigi runs it first."""

    priority = 100


class Enrich(_Written):
    def requires(self):
        return Reference(date=self.date)


class Report(_Written):
    """The daily report mailed to finance."""

    def requires(self):
        return [Ingest(date=self.date), Enrich(date=self.date)]
