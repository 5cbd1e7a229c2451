"""Luigi tasks for the deployment test, a chain DeployExtract -> DeployHold -> DeployPublish.

Every run() body appends its pid to a marker file of its own under
$DEPLOY_MARKERS/runs (so a test counts how often each body really ran), and
DeployHold keeps running until the file $DEPLOY_MARKERS/release-<date>
exists, so a test can act (kill the scheduler) while a Luigi task is running.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import luigi

#: Longest DeployHold waits for the release file before it gives up (fails).
HOLD_LIMIT_SECONDS = 900


def markers() -> Path:
    return Path(os.environ["DEPLOY_MARKERS"])


def release_file(marker_dir: Path, date: object) -> Path:
    """Create it to let DeployHold(date) finish."""
    return marker_dir / f"release-{date}"


class _Counted(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(str(markers() / "out" / f"{self.task_id}.txt"))

    def run(self):
        runs = markers() / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        with open(runs / self.task_id, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        self.body()
        with self.output().open("w") as out:
            out.write(f"{self.task_id}\n")

    def body(self) -> None:
        pass


class DeployExtract(_Counted):
    pass


class DeployHold(_Counted):
    def requires(self):
        return DeployExtract(date=self.date)

    def body(self) -> None:
        release = release_file(markers(), self.date)
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        print(f"DeployHold {self.date}: holding until {release} exists", flush=True)
        while not release.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{release} never appeared")
            time.sleep(0.2)


class DeployPublish(_Counted):
    def requires(self):
        return DeployHold(date=self.date)

    def body(self) -> None:
        print(f"DeployPublish {self.date}: published the ledger for {self.date}", flush=True)
