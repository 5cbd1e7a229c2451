"""A small daily ledger pipeline, written as an ordinary Luigi module.

    ExtractTransactions(eu) ─┐
                             ├─ ConvertToEur(eu) ─┐
    ExchangeRates ───────────┤                    ├─ DailyLedger ── Report
                             ├─ ConvertToEur(us) ─┘
    ExtractTransactions(us) ─┘

ExchangeRates is shared by both conversions (a diamond). Outputs are
LocalTargets under $EXAMPLE_DATA_DIR (default ./data).

    luigi --module examples.pipeline Report --date 2026-11-01 --local-scheduler
    luigi-fargate export examples.pipeline.Report --date 2026-11-01
"""

from __future__ import annotations

import csv
import json
import os
import random

import luigi

REGIONS = ("eu", "us")


def data_path(*parts: str) -> str:
    return os.path.join(os.environ.get("EXAMPLE_DATA_DIR", "data"), *parts)


class ExtractTransactions(luigi.Task):
    """Yesterday's card transactions for one region (generated, deterministic)."""

    date = luigi.DateParameter()
    region = luigi.Parameter()
    retry_count = 2
    owner_email = "ledger-team@example.com"

    def output(self):
        return luigi.LocalTarget(data_path(f"{self.date:%Y-%m-%d}", f"transactions_{self.region}.csv"))

    def run(self):
        rng = random.Random(f"{self.date}-{self.region}")
        currency = {"eu": "EUR", "us": "USD"}[self.region]
        with self.output().open("w") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "amount", "currency"])
            for i in range(20):
                writer.writerow([f"{self.region}-{i}", f"{rng.uniform(1, 500):.2f}", currency])


class ExchangeRates(luigi.Task):
    """The day's exchange rates to EUR."""

    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(data_path(f"{self.date:%Y-%m-%d}", "rates.json"))

    def run(self):
        rng = random.Random(str(self.date))
        with self.output().open("w") as out:
            json.dump({"EUR": 1.0, "USD": round(0.9 + rng.random() / 10, 4)}, out)


class ConvertToEur(luigi.Task):
    date = luigi.DateParameter()
    region = luigi.Parameter()
    priority = 10

    def requires(self):
        return {"tx": ExtractTransactions(date=self.date, region=self.region), "rates": ExchangeRates(date=self.date)}

    def output(self):
        return luigi.LocalTarget(data_path(f"{self.date:%Y-%m-%d}", f"eur_{self.region}.csv"))

    def run(self):
        with self.input()["rates"].open() as f:
            rates = json.load(f)
        with self.input()["tx"].open() as src, self.output().open("w") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "amount_eur"])
            for row in csv.DictReader(src):
                writer.writerow([row["id"], f"{float(row['amount']) * rates[row['currency']]:.2f}"])


class DailyLedger(luigi.Task):
    date = luigi.DateParameter()

    def requires(self):
        return [ConvertToEur(date=self.date, region=r) for r in REGIONS]

    def output(self):
        return luigi.LocalTarget(data_path(f"{self.date:%Y-%m-%d}", "ledger.csv"))

    def run(self):
        with self.output().open("w") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "amount_eur"])
            for target in self.input():
                with target.open() as src:
                    rows = list(csv.reader(src))[1:]
                writer.writerows(rows)


class Report(luigi.Task):
    """Totals per region for the day."""

    date = luigi.DateParameter()

    def requires(self):
        return DailyLedger(date=self.date)

    def output(self):
        return luigi.LocalTarget(data_path(f"{self.date:%Y-%m-%d}", "report.json"))

    def run(self):
        totals: dict[str, float] = {}
        with self.input().open() as src:
            for row in csv.DictReader(src):
                region = row["id"].split("-")[0]
                totals[region] = round(totals.get(region, 0.0) + float(row["amount_eur"]), 2)
        with self.output().open("w") as out:
            json.dump({"date": str(self.date), "total_eur_by_region": totals}, out, indent=1)
