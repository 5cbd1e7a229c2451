"""Luigi tasks baked into the test image (tests/installed): one per outcome of the runner.

Copied into the image's code folder; never imported from the source tree.
Every run() body appends ``<what> <pid>`` to $IMAGE_LEDGER, so a test counts
how often a body ran, and in which process (pid 1 under ``unshare``).
Outputs go under $IMAGE_DATA.
"""

from __future__ import annotations

import os
import time

import luigi


def record(what: str) -> None:
    with open(os.environ["IMAGE_LEDGER"], "a") as fh:
        fh.write(f"{what} {os.getpid()}\n")


def target(name: str) -> luigi.LocalTarget:
    return luigi.LocalTarget(os.path.join(os.environ["IMAGE_DATA"], name))


class ImageOk(luigi.Task):
    name = luigi.Parameter(default="ok")

    def output(self):
        return target(f"ok-{self.name}.txt")

    def run(self):
        record(f"run ImageOk {self.name}")
        with self.output().open("w") as out:
            out.write(f"{self.name}\n")


class ImageMissing(luigi.ExternalTask):
    """Data nobody produced."""

    def output(self):
        return target("never-there.txt")


class ImageNeedsMissing(luigi.Task):
    def requires(self):
        return ImageMissing()

    def output(self):
        return target("needs-missing.txt")

    def run(self):
        record("run ImageNeedsMissing")


class ImageFails(luigi.Task):
    def output(self):
        return target("fails.txt")

    def run(self):
        record("run ImageFails")
        raise RuntimeError("the ledger does not balance")


class ImageSlow(luigi.Task):
    """Writes its atomic output slowly; the finally block is the task's own cleanup."""

    # Not significant: every duration is the same task id, so the same lock.
    seconds = luigi.FloatParameter(default=600.0, significant=False)

    def output(self):
        return target("slow.txt")

    def run(self):
        record("run ImageSlow")
        try:
            with self.output().open("w") as out:
                out.write("partial")
                time.sleep(self.seconds)
        finally:
            record("cleanup ImageSlow")


class ImageSlowCheck(luigi.Task):
    """Its completeness check takes long (a slow object store): a stop can come before anything runs."""

    def output(self):
        return target("slow-check.txt")

    def complete(self):
        record("checking ImageSlowCheck")
        time.sleep(600)
        return False

    def run(self):
        record("run ImageSlowCheck")


class ImageNotExported(luigi.Task):
    """In the image's code but in no exported spec: the allowlist refuses it."""

    def output(self):
        return target("not-exported.txt")

    def run(self):
        record("run ImageNotExported")


class ImageAll(luigi.WrapperTask):
    """The root that is exported: its spec allowlists every family above but ImageNotExported."""

    def requires(self):
        return [ImageOk(), ImageNeedsMissing(), ImageFails(), ImageSlow(), ImageSlowCheck()]
