"""``luigi-fargate sizes suggest``: the expected Fargate sizes from usage events, the split by a parameter, the saving."""

from __future__ import annotations

import configparser
import json
import math
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from luigi_fargate.config.keys import FAMILY_KEYS
from luigi_fargate.cost.pricing import FargatePricing
from luigi_fargate.fargate.sizing import FargateSize
from luigi_fargate.sizes.stats import nearest_rank
from luigi_fargate.sizes.suggest import SizingRule, suggest
from luigi_fargate.sizes.usage import MeasuredRun
from luigi_fargate.validators import FARGATE_MEMORY_BY_CPU
from tests.conftest import TESTS, base_env, luigi_fargate
from tests.sizes.events import BASE_TS, usage, write_events

HALF_DAY = 43_200.0


def _events() -> list[dict]:
    events = [usage("Light", 100 + 10 * i, 0.1) for i in range(10)]  # p95 190 MiB x 1.25 = 238; 0.125 vCPU
    events += [usage("Convert", 2000 + 10 * i, 0.9, wall=600, ts=BASE_TS + i * HALF_DAY, cpu=4096, memory=16384) for i in range(20)]
    events += [usage("Big", 30000, 3.5) for _ in range(5)]  # 37,500 MiB, 4.4 vCPU: 8 vCPU with 40 GiB
    events += [usage("Few", 500, 0.1) for _ in range(3)]
    events += [usage("Light", 9000, 4.0, ran=False) for _ in range(5)]  # found complete: measured nothing
    for i in range(10):  # region splits the family; the date (one run each) doesn't
        events.append(usage("ByRegion", 6000, 0.5, params={"region": "eu", "date": f"2026-11-{i + 1:02d}"}))
        events.append(usage("ByRegion", 1000, 0.5, params={"region": "us", "date": f"2026-11-{i + 1:02d}"}))
        events.append(usage("Even", 1000 + i, 0.2, params={"region": "eu" if i % 2 else "us"}))
    return events


def test_suggests_the_smallest_fargate_size_per_family_and_parameter_value(cli, tmp_path: Path):
    events = write_events(tmp_path / "events.jsonl", _events())
    result = cli("sizes", "suggest", "--events", str(events), "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {(r["family"], r["pattern"]): r for r in json.loads(result.stdout)}
    picked = {key: (r["runs"], r["suggested_cpu"], r["suggested_memory"]) for key, r in rows.items()}
    assert picked == {
        ("Big", None): (5, 8192, 40960),
        ("ByRegion", "region=eu"): (10, 1024, 8192),
        ("ByRegion", "region=us"): (10, 1024, 2048),
        ("Convert", None): (20, 2048, 4096),
        ("Even", None): (10, 256, 2048),
        ("Few", None): (3, None, None),
        ("Light", None): (10, 256, 512),
    }
    assert rows[("Few", None)]["note"] == "3 runs: too few"
    assert rows[("Light", None)]["memory_max_mb"] == 190  # the ran: false runs are not counted


def test_the_monthly_saving_is_the_price_difference_over_the_observed_runs_per_day(cli, tmp_path: Path):
    events = write_events(tmp_path / "events.jsonl", [e for e in _events() if e["family"] == "Convert"])
    result = cli("sizes", "suggest", "--events", str(events), "--format", "json")
    (row,) = json.loads(result.stdout)
    assert (row["current_cpu"], row["current_memory"]) == (4096, 16384)
    hourly = lambda cpu, mem: Fraction(cpu, 1024) * Fraction("0.04048") + Fraction(mem, 1024) * Fraction("0.004445")  # noqa: E731
    days = Fraction(19 * 12, 24)  # 20 runs, one every 12 hours
    expected = (hourly(4096, 16384) - hourly(2048, 4096)) * 20 * 600 / days * 30 / 3600
    assert row["monthly_saving_usd"] == f"{float(expected):.2f}" == "1.41"


def test_table_shows_every_column_and_the_too_few_note(cli, tmp_path: Path):
    events = write_events(tmp_path / "events.jsonl", _events())
    result = cli("sizes", "suggest", "--events", str(events))
    assert result.returncode == 0, result.stderr
    for text in ("family", "runs", "p95", "size now", "suggested", "saving / month", "ByRegion [region=eu]", "3 runs: too few", "4096/16384", "2048/4096"):
        assert text in result.stdout, text


def test_write_emits_family_sections_the_loader_accepts_and_never_overwrites(cli, tmp_path: Path):
    events = write_events(tmp_path / "events.jsonl", _events())
    target = tmp_path / "sizes.cfg"
    assert cli("sizes", "suggest", "--events", str(events), "--write", str(target)).returncode == 0
    parser = configparser.ConfigParser()
    parser.read_string(target.read_text())
    sections = {s: {k: FAMILY_KEYS[k].parse(k, v) for k, v in parser[s].items()} for s in parser.sections()}
    assert sections == {
        "luigi_fargate.family.Big": {"cpu": 8192, "memory": 40960},
        "luigi_fargate.family.ByRegion": {"cpu": 1024, "memory": 8192},  # the larger of its two sizes
        "luigi_fargate.family.Convert": {"cpu": 2048, "memory": 4096},
        "luigi_fargate.family.Even": {"cpu": 256, "memory": 2048},
        "luigi_fargate.family.Light": {"cpu": 256, "memory": 512},
    }
    assert "# region=us: 10 runs" in target.read_text() and "# Few: 3 runs: too few" in target.read_text()

    target.write_text("[luigi_fargate]\nregion = eu-west-1\n")
    again = cli("sizes", "suggest", "--events", str(events), "--write", str(target))
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "the file exists" in again.stderr
    assert target.read_text() == "[luigi_fargate]\nregion = eu-west-1\n"


def test_bad_inputs_are_one_line_errors(cli, tmp_path: Path):
    empty = write_events(tmp_path / "empty.jsonl", [usage("X", 1, 1, ran=False)])
    cases = [
        (["--events", str(tmp_path / "missing.jsonl")], "can't read it"),
        (["--events", str(empty)], "no usage events of runs that ran a task"),
        (["--events", str(empty), "--headroom", "0.5"], "--headroom=0.5"),
        (["--events", str(empty), "--percentile", "0"], "--percentile=0"),
    ]
    for args, words in cases:
        result = cli("sizes", "suggest", *args)
        assert result.returncode == 2 and words in result.stderr and result.stderr.count("\n") == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_current_size_comes_from_the_family_section_of_luigi_cfg(tmp_path: Path):
    """The installed command, with a real luigi.cfg: the size now is the family's configured one."""
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text("[luigi_fargate]\nsizes_min_runs = 2\n\n[luigi_fargate.family.Light]\ncpu = 1024\nmemory = 3000\n")
    events = write_events(tmp_path / "events.jsonl", [usage("Light", 300, 0.1, ts=BASE_TS + i * 86400) for i in range(3)])
    proc = luigi_fargate("sizes", "suggest", "--events", str(events), "--format", "json", env=base_env(LUIGI_CONFIG_PATH=str(cfg)))
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert (row["current_cpu"], row["current_memory"], row["suggested_cpu"], row["suggested_memory"]) == (1024, 3072, 256, 512)
    assert float(row["monthly_saving_usd"]) > 0
    assert str(TESTS)  # keeps the import of the tests' paths used by base_env explicit


def test_nearest_rank_percentile_is_a_measured_value():
    assert nearest_rank([5, 1, 4, 2, 3], 95) == 5
    assert nearest_rank([5, 1, 4, 2, 3], 50) == 3
    assert nearest_rank(list(range(1, 101)), 95) == 95
    assert nearest_rank([7.0], 1) == 7.0


VALID = sorted((cpu, memory) for cpu, memories in FARGATE_MEMORY_BY_CPU.items() for memory in memories)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.floats(1, 125_000), st.floats(0, 20)), min_size=5, max_size=40),
    st.sampled_from([50.0, 90.0, 95.0, 100.0]),
    st.floats(1.0, 2.0),
)
def test_the_suggestion_is_the_smallest_valid_size_that_covers_the_percentile_with_headroom(samples, percent, headroom):
    runs = [MeasuredRun("F", {}, rss, vcpus * 100, 100.0) for rss, vcpus in samples]
    rule = SizingRule(percent, headroom, 5)
    (s,) = suggest(runs, rule, lambda family: FargateSize(256, 512), FargatePricing())
    ordered_rss = sorted(r for r, _ in samples)
    ordered_cpu = sorted(r.vcpus_used for r in runs)
    rank = max(1, math.ceil(percent / 100 * len(samples))) - 1
    need_memory, need_vcpu = ordered_rss[rank] * headroom, ordered_cpu[rank] * headroom
    fitting = [(c, m) for c, m in VALID if m >= need_memory and c / 1024 >= need_vcpu]
    if not fitting:
        assert not s.fits_fargate and s.note.startswith("over Fargate's maximum")
        return
    assert (s.suggested.cpu, s.suggested.memory) == fitting[0]
