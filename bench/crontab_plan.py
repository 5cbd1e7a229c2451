"""Time `crontab plan` on large and long-lined crontabs (static lines: no job code is imported).

    .venv/bin/python bench/crontab_plan.py [LINES] [MEGABYTES]

Prints one JSON line. ``lines_s``: a LINES-line crontab (default 20,000) of
varied schedules, comments, environment lines, non-Luigi jobs and Luigi jobs
that stay in cron for a reason found before any export (pipes, @reboot,
`$(hostname)`, a bare `%`); ``long_line_s``: single lines of MEGABYTES
(default 2) each: one long word, many short words, many substitutions, a
Luigi call with a long parameter. Targets on a 2-core machine: 20,000 lines
in under 5 s; a 2 MB line in well under a second; both linear in size.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from luigi_fargate.crontab.decide import ExportSettings, decide_crontab  # noqa: E402
from luigi_fargate.crontab.plan import PlanOptions  # noqa: E402

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
JOBS = [
    "/usr/local/bin/backup.sh --all >> /var/log/backup.log 2>&1",
    "cd /srv && ./report.py --day $(date +\\%F) | mail -s report ops@example.com",
    "luigi --module billing Reconcile --date $(date +\\%F) | tee -a /tmp/log",
    "luigi --module billing Snapshot --host $(hostname)",
    "luigi --module billing Snapshot --stamp $(date +%F)",
    "flock -n /tmp/x.lock rsync -a /data/ backup:/data/",
    "python3 -m luigi --module billing Report --x 1 || echo failed",
    "env -i PATH=/bin /opt/tool --flag 'quoted arg' \"double $HOME\"",
]
SCHEDULES = ["15 18 * * *", "*/5 * * * *", "0 2 * * mon-fri", "@daily", "@reboot", "0 0 1 * *", "30 */6 * * *"]
OTHER = ["# comment", "", "MAILTO=ops@example.com", "CRON_TZ=Europe/Berlin", "TZ=Europe/Berlin"]


def _crontab(n: int) -> str:
    rng = random.Random(7)
    out = []
    for i in range(n):
        if i % 5 == 0:
            out.append(rng.choice(OTHER))
        else:
            minute, hour = rng.randrange(60), rng.randrange(24)
            schedule = rng.choice(SCHEDULES + [f"{minute} {hour} * * *"])
            out.append(f"{schedule} {rng.choice(JOBS)}")
    return "\n".join(out) + "\n"


def _plan(text: str) -> float:
    started = time.perf_counter()
    planned, decided = decide_crontab(text, PlanOptions(now=NOW), ExportSettings(now=NOW))
    elapsed = time.perf_counter() - started
    assert not decided and planned
    return round(elapsed, 3)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    mb = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    size = int(mb * 1_000_000)
    _plan("* * * * * echo warm-up\n")  # imports (croniter, the export builder for DAG ids)
    long_lines = {
        "one_word": "* * * * * echo " + "a" * size,
        "many_words": "* * * * * echo " + "ab " * (size // 3),
        "many_substitutions": "* * * * * echo " + "$(date +\\%F) " * (size // 14),
        "luigi_long_param": "* * * * * luigi --module m T --stamp x | tee /tmp/x --p " + "b" * size,
        "quotes": "* * * * * echo " + "'a b' \"c d\" " * (size // 12),
    }
    result = {"lines": n, "lines_s": _plan(_crontab(n)), "megabytes": mb,
              "long_line_s": {name: _plan(line + "\n") for name, line in long_lines.items()}}  # fmt: skip
    half = {"lines_half_s": _plan(_crontab(n // 2))}
    print(json.dumps({**result, **half}))


if __name__ == "__main__":
    main()
