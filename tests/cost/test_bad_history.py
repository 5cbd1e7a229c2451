"""History and specs are input from outside: a try that ends before it starts is an error, not a minute billed;
a group name that a spreadsheet would run as a formula is written as text in the CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.cost import write_specs


def test_a_try_that_ends_before_it_starts_is_an_error_naming_its_row(cli, tmp_path: Path) -> None:
    write_specs(tmp_path)
    history = tmp_path / "exports" / "history.jsonl"
    history.parent.mkdir()
    row = {"dag_id": "ledger", "task_id": "convert", "run_id": "r1", "try_number": 1, "map_index": -1,
           "start_date": "2026-11-02T06:00:00Z", "end_date": "2026-11-02T07:00:00+02:00", "state": "success"}  # fmt: skip
    history.write_text(json.dumps({**row, "end_date": "2026-11-02T08:00:00+02:00"}) + "\n" + json.dumps(row) + "\n")
    result = cli("cost", str(tmp_path), "--history", str(history), "--format", "json")
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and f"{history} line 2: " in result.stderr and "end_date" in result.stderr, result.stderr
    assert result.stdout == ""


FORMULA_START = st.sampled_from(["=", "+", "-", "@", "\t", "\r"])


@settings(max_examples=40, deadline=None)
@given(name=st.tuples(FORMULA_START, st.text(min_size=0, max_size=20)).map("".join))
def test_csv_cells_that_start_like_a_formula_are_written_as_text(name: str) -> None:
    from luigi_fargate.cli.cost import csv_cell

    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(name), csv_cell(3), csv_cell("0.12")])
    [cells] = list(csv.reader(io.StringIO(out.getvalue())))
    assert cells[0] == "'" + name and cells[1:] == ["3", "0.12"]


def test_a_team_tag_like_a_formula_is_text_in_the_csv(cli, tmp_path: Path) -> None:
    from luigi_fargate.spec import FargateRunner, FargateSize, NodeKind, PipelineSpec, TaskNode, TaskSettings

    node = TaskNode("convert", "Convert_x", "pipeline", "Convert", kind=NodeKind.TASK,
                    settings=TaskSettings(tags={"team": "=1+2"}), size=FargateSize(1024, 3072))  # fmt: skip
    runner = FargateRunner("c", "us-east-1", "luigi-fargate", "luigi", ["subnet-12345678"], ["sg-12345678"])
    (tmp_path / "ledger.json").write_text(PipelineSpec(dag_id="ledger", root="convert", tasks=[node], runner=runner).to_json())
    history = tmp_path / "h.csv"
    history.write_text("dag_id,task_id,run_id,try_number,start_date,end_date,state,map_index\n"
                       "ledger,convert,r1,1,2026-11-02T06:00:00Z,2026-11-02T07:00:00Z,success,-1\n")  # fmt: skip
    result = cli("cost", str(tmp_path / "ledger.json"), "--history", str(history), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["team"] == "'=1+2"


def test_a_chart_that_cant_be_written_fails_before_the_report(cli, tmp_path: Path) -> None:
    write_specs(tmp_path)
    history = tmp_path / "exports" / "history.jsonl"
    history.parent.mkdir()
    history.write_text(json.dumps({"dag_id": "ledger", "task_id": "convert", "run_id": "r1", "start_date": "2026-11-02T06:00:00Z",
                                   "end_date": "2026-11-02T07:00:00Z", "state": "success"}) + "\n")  # fmt: skip
    (tmp_path / "elsewhere.png").write_text("not a chart")
    (tmp_path / "link.png").symlink_to(tmp_path / "elsewhere.png")
    for chart, words in ((tmp_path / "missing" / "c.png", "no folder"), (tmp_path / "link.png", "a symlink")):
        result = cli("cost", str(tmp_path), "--history", str(history), "--chart", str(chart), "--format", "csv")
        assert result.returncode == 2, result
        assert result.stderr.count("\n") == 1 and str(chart) in result.stderr and words in result.stderr, result.stderr
        assert result.stdout == ""


def test_a_history_saved_by_a_spreadsheet_reads_and_a_non_utf8_one_is_a_one_line_error(cli, tmp_path: Path) -> None:
    write_specs(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    text = ("dag_id,task_id,run_id,try_number,start_date,end_date,state,map_index\n"
            "ledger,convert,r1,1,2026-11-02T06:00:00Z,2026-11-02T07:00:00Z,success,-1\n")  # fmt: skip
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = cli("cost", str(tmp_path), "--history", str(folder / "bom.csv"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tries"] == 1
    (folder / "latin1.csv").write_bytes(text.replace("r1", "r\xe9").encode("latin-1"))
    result = cli("cost", str(tmp_path), "--history", str(folder / "latin1.csv"), "--format", "json")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "latin1.csv" in result.stderr, result.stderr
