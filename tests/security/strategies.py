"""Hypothesis strategies for ``luigi-fargate run``'s command line and environment, by class of attack.

Every word here is one the runner may see from an ECS command override, a
spec's templated values or the container's environment. The fixture
families (tests/fixtures/sec_tasks.py) are the allowlisted ones;
``sec_marker`` must never be imported.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Luigi's own options without a section (``luigi.interface.core``), as its parser spells them.
LUIGI_CORE = [
    "local_scheduler", "scheduler_host", "scheduler_port", "scheduler_url", "lock_size", "no_lock",
    "lock_pid_dir", "take_lock", "workers", "logging_conf_file", "log_level", "module",
    "parallel_scheduling", "parallel_scheduling_processes", "assistant", "help", "help_all",
]  # fmt: skip
#: ``--Section-param`` options of Luigi's config classes and of the fixture families.
LUIGI_SECTIONED = [
    "worker-keep-alive", "worker-task-process-context", "scheduler-metrics-custom-import", "scheduler-retry-delay",
    "scheduler-record-task-history", "email-receiver", "smtp-host", "core-module", "core-local-scheduler",
    "Job-name", "Job-mod", "Root-day", "Explodes-where", "RangeDaily-of",
]  # fmt: skip

#: How the fixture family Job spells its parameters (name -> kind).
JOB_PARAMS = {
    "name": "str", "n": "int", "day": "date", "mod": "str", "lock": "str", "help_text": "str",
    "loud": "implicit", "strict": "explicit",
}  # fmt: skip
JOB_DEFAULTS = {
    "name": "a", "n": "1", "day": "2026-11-01", "mod": "m", "lock": "l", "help_text": "h",
    "loud": "False", "strict": "False",
}  # fmt: skip
JOB_FLAGS = {f"--{n}" for n in JOB_PARAMS} | {"--" + n.replace("_", "-") for n in JOB_PARAMS}

#: The runner's own options (they only count before MODULE).
RUNNER_FLAGS = [
    "--allow", "--allow-any", "--lock", "--on-locked", "--lock-timeout", "--lock-poll", "--log-format",
    "--graph-check", "--check-complete", "-v", "--verbose", "-h", "--help",
]  # fmt: skip

#: Values that look like options, templates, shell or nothing at all.
OPTION_LIKE = [
    "-h", "--help", "-v", "--module", "--module=sec_marker", "--mod=sec_marker", "--modul", "--core-module",
    "--allow-any", "--allow", "--graph-check", "--local-scheduler", "--workers=8", "--", "-", "---", "--=",
    "sec_marker", "--help-all", "--help-a", "-hv", "--Job-name=x", "true", "false", "{{ 7*7 }}", "{% raw %}",
    "$(touch pwned)", "`touch pwned`", "; touch pwned", "a b", " ", "=", "==", "--name", "--name=x", "\n", "--ver",
]  # fmt: skip

SAFE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
VALUES = st.one_of(st.sampled_from(OPTION_LIKE), SAFE_TEXT)

MARKER_MODULE = "sec_marker"
IMAGE_FAMILIES = {("sec_tasks", "Root"), ("sec_tasks", "Job"), ("sec_tasks", "Explodes"), ("sec_import_raises", "Never")}
SPEC_FAMILIES = {("sec_tasks", "Root"), ("sec_tasks", "Job"), ("sec_tasks", "Explodes")}
EVIL_FAMILIES = {("sec_marker", "Evil")}
TARGETS = sorted(IMAGE_FAMILIES | EVIL_FAMILIES | {("os", "system"), ("sec_tasks", "Evil"), ("sec_marker", "Job")})


@dataclass
class JobCall:
    """Words setting some of Job's parameters, grouped per parameter, and the values Job must then have."""

    groups: list[list[str]] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=lambda: dict(JOB_DEFAULTS))

    @property
    def words(self) -> list[str]:
        return [w for g in self.groups for w in g]


def _spelling(draw: st.DrawFn, name: str) -> str:
    return "--" + (name if "_" not in name or draw(st.booleans()) else name.replace("_", "-"))


def _with_value(draw: st.DrawFn, flag: str, value: str) -> list[str]:
    return [f"{flag}={value}"] if draw(st.booleans()) else [flag, value]


@st.composite
def job_call(draw: st.DrawFn, values: st.SearchStrategy[str] = VALUES) -> JobCall:
    """Valid parameters of Job with any values their types accept; option-like text for the strings."""
    call = JobCall()
    for name in draw(st.lists(st.sampled_from(sorted(JOB_PARAMS)), unique=True, max_size=6)):
        kind, flag = JOB_PARAMS[name], _spelling(draw, name)
        if kind == "implicit":
            call.groups.append([flag])
            call.expected[name] = "True"
        elif kind == "explicit":
            word = draw(st.sampled_from(["true", "false", "True", "FALSE", None]))
            call.groups.append([flag] if word is None else _with_value(draw, flag, word))
            call.expected[name] = "False" if word is not None and word.lower() == "false" else "True"
        elif kind == "int":
            n = draw(st.integers(-10**6, 10**6))
            call.groups.append(_with_value(draw, flag, str(n)))
            call.expected[name] = str(n)
        elif kind == "date":
            d = draw(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
            call.groups.append(_with_value(draw, flag, d.isoformat()))
            call.expected[name] = d.isoformat()
        else:
            value = draw(values)
            call.groups.append(_with_value(draw, flag, value))
            if value != "":  # Luigi's command line ignores empty values: the default stays
                call.expected[name] = value
    return call


@st.composite
def luigi_option_words(draw: st.DrawFn) -> list[str]:
    """One of Luigi's own options in some spelling (exact, abbreviated, ``=``, ``--core-``...), valued."""
    base = draw(st.one_of(st.sampled_from(LUIGI_CORE).map(lambda n: "--" + n.replace("_", "-")),
                          st.sampled_from(LUIGI_SECTIONED).map(lambda n: "--" + n)))  # fmt: skip
    cut = draw(st.integers(min_value=3, max_value=len(base)))
    flag = base[:cut]
    if flag in JOB_FLAGS:
        flag = base  # an abbreviation that is exactly one of Job's own parameters is that parameter
    value = draw(st.sampled_from([MARKER_MODULE, "os", "", "-h", "1", "true"]))
    form = draw(st.sampled_from(["=", " ", "bare"]))
    return [f"{flag}={value}"] if form == "=" else [flag, value] if form == " " else [flag]


def insert(draw: st.DrawFn, groups: list[list[str]], words: list[str]) -> list[str]:
    """``groups`` with ``words`` placed between two of them (an option position)."""
    at = draw(st.integers(0, len(groups)))
    return [w for g in groups[:at] for w in g] + words + [w for g in groups[at:] for w in g]


def graph_check(root: list[str], size: int = 3, deps: int = 0) -> str:
    return json.dumps({"root": root, "graph_size": size, "deps": deps})


@st.composite
def graph_check_text(draw: st.DrawFn) -> str:
    """A graph check: the real one, or one naming something else, or malformed."""
    root = draw(st.sampled_from([
        ["sec_tasks", "Root"], ["sec_marker", "Evil"], ["sec_tasks", "Job"], ["sec_import_raises", "Never"],
        ["os", "system"], ["sec_marker.x", "Evil"], ["sec_tasks;touch pwned", "Root"], ["sec_tasks", "Root;x"],
    ]))  # fmt: skip
    day = draw(st.sampled_from(["2026-11-01", "2026-11-02", "junk"]))
    extra = draw(st.one_of(st.just([]), luigi_option_words(), st.lists(st.sampled_from(OPTION_LIKE), max_size=2)))
    args = draw(st.sampled_from([["--day", day], [f"--day={day}"], []])) + extra
    size = draw(st.sampled_from([3, 3, 4, 1]))
    deps = draw(st.sampled_from([0, 0, 1]))
    text = graph_check(root + args, size, deps)
    broken = draw(st.sampled_from([None, None, None, "[1]", "{", '{"root": "sec_marker"}', '{"root": [], "graph_size": 1, "deps": 0}',
                                   graph_check(["sec_marker", "Evil"], True, 0)]))  # fmt: skip
    return broken or text
