"""Luigi tasks that declare Fargate sizes, for export tests."""

from __future__ import annotations

import luigi

from luigi_fargate.fargate.settings import FargateResources


class Small(luigi.Task):
    """Asks for a size Fargate doesn't offer (1000 CPU units, 3000 MiB): rounded up."""

    date = luigi.DateParameter()
    fargate_cpu = 1000
    fargate_memory = 3000
    owner_email = "ledger-team@example.com"

    def output(self):
        return luigi.LocalTarget(f"/tmp/small-{self.date}")


class Configured(FargateResources, luigi.Task):
    """Declares 256 CPU units; [luigi_fargate.family.Configured] wins."""

    date = luigi.DateParameter()
    fargate_cpu = 256
    fargate_memory = 512

    def requires(self):
        return Small(date=self.date)

    def output(self):
        return luigi.LocalTarget(f"/tmp/configured-{self.date}")


class Huge(FargateResources, luigi.Task):
    """More than any Fargate size: 16 vCPU with 200 GiB."""

    date = luigi.DateParameter()
    fargate_cpu = 16384
    fargate_memory = 204800

    def output(self):
        return luigi.LocalTarget(f"/tmp/huge-{self.date}")


class Everything(luigi.WrapperTask):
    date = luigi.DateParameter()
    with_huge = luigi.BoolParameter(default=False, parsing=luigi.BoolParameter.EXPLICIT_PARSING)

    def requires(self):
        yield Configured(date=self.date)
        if self.with_huge:
            yield Huge(date=self.date)


class Named(luigi.Task):
    """An owner written with a display name (ECS refuses < and > in tags) and a Luigi resource."""

    date = luigi.DateParameter()
    fargate_cpu = 2048
    fargate_memory = 4096
    owner_email = "Ledger Team <ledger@example.com>"
    resources = {"db": 1}

    def output(self):
        return luigi.LocalTarget(f"/tmp/named-{self.date}")


class Owners(luigi.WrapperTask):
    date = luigi.DateParameter()

    def requires(self):
        yield Named(date=self.date)
        yield Small(date=self.date)
