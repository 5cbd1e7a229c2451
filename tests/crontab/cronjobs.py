"""Luigi tasks that the test crontabs run (outputs under $CRON_DATA)."""

from __future__ import annotations

import datetime as dt
import os

import luigi


def _out(name: str) -> luigi.LocalTarget:
    return luigi.LocalTarget(os.path.join(os.environ.get("CRON_DATA", "data"), name))


class Extract(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return _out(f"extract-{self.date:%Y-%m-%d}.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(f"{self.date}\n")


class Reconcile(luigi.Task):
    """Reads yesterday's extract: the upstream date must follow the run date."""

    date = luigi.DateParameter()

    def requires(self):
        return Extract(date=self.date - dt.timedelta(days=1))

    def output(self):
        return _out(f"reconcile-{self.date:%Y-%m-%d}.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(f"{self.date} cwd={os.getcwd()} app={os.environ.get('APP_MODE', '')}\n")


class Snapshot(luigi.Task):
    stamp = luigi.Parameter()

    def output(self):
        return _out(f"snapshot-{self.stamp}.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(self.stamp + "\n")


class Derived(luigi.Task):
    """A string day that an upstream task copies: can't follow the run date."""

    day = luigi.Parameter()

    def requires(self):
        return Snapshot(stamp=self.day)

    def output(self):
        return _out(f"derived-{self.day}.txt")


class CronResults(luigi.ExternalTask):
    """Files another system drops under results/<id>/."""

    path = luigi.Parameter()

    def output(self):
        return _out(self.path)


class CronReport(luigi.Task):
    """A string id its upstream *derives* a path from (not a copy): the DAG can't keep it fixed."""

    id = luigi.Parameter()

    def requires(self):
        return CronResults(path="results/{}/x".format(self.id))  # noqa: UP032 - the issue's exact case

    def output(self):
        return _out(f"report-{self.id}.txt")


class CronStamped(luigi.Task):
    """A templated string with a fixed upstream: migrates (the upstream doesn't move)."""

    stamp = luigi.Parameter()

    def requires(self):
        return CronResults(path="results/static/x")

    def output(self):
        return _out(f"stamped-{self.stamp}.txt")


class CronMonthlyRollup(luigi.Task):
    """A month interval (`--date-interval $(date -d yesterday +%Y-%m)`): each day's extract upstream follows."""

    date_interval = luigi.DateIntervalParameter()

    def requires(self):
        return [Extract(date=d) for d in (self.date_interval.date_a, self.date_interval.date_b - dt.timedelta(days=1))]

    def output(self):
        return _out(f"rollup-{self.date_interval}.txt")


class CronWeeklyRollup(luigi.Task):
    """An ISO week interval (`--week $(date -d yesterday +%G-W%V)`), as export renders weekly intervals."""

    week = luigi.DateIntervalParameter()

    def requires(self):
        return Extract(date=self.week.date_a)

    def output(self):
        return _out(f"weekly-{self.week}.txt")


class CronMonthClose(luigi.Task):
    """A MonthParameter (`--month $(date -d yesterday +%Y-%m)`) whose upstream reads the month's first day."""

    month = luigi.MonthParameter()

    def requires(self):
        return Extract(date=self.month)

    def output(self):
        return _out(f"close-{self.month:%Y-%m}.txt")


class CronPayroll(luigi.Task):
    """On the 15th Luigi's graph also closes the previous month: a shape neither two nearby runs nor the
    month ends export samples show."""

    date = luigi.DateParameter()

    def requires(self):
        deps = [Extract(date=self.date)]
        if self.date.day == 15:
            deps.append(CronMonthClose(month=self.date - dt.timedelta(days=1)))
        return deps

    def output(self):
        return _out(f"payroll-{self.date:%Y-%m-%d}.txt")


class CronWindow(luigi.Task):
    """Two dates; upstream follows only the second (a run binds one date parameter: the first)."""

    start = luigi.DateParameter()
    end = luigi.DateParameter()

    def requires(self):
        return Extract(date=self.end)

    def output(self):
        return _out(f"window-{self.start}-{self.end}.txt")
