"""`branchdesk credit ...` end to end in a subprocess, and its refusals writing nothing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from branchdesk.loans.cli import credit_app
from branchdesk.loans.scorecard.synth import generate_applicants


def run(arguments: list[str | Path]) -> Result:
    """In process: the refusals and reports, without a Python start-up each."""
    return CliRunner().invoke(credit_app, [str(a) for a in arguments])


def credit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "branchdesk", "credit", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("credit")
    train, _ = generate_applicants(500, seed=31)
    train.to_csv(directory / "train.csv", index=False)
    applicants, _ = generate_applicants(60, seed=32)
    applicants = applicants.drop(columns=["outcome"])
    applicants.loc[0, "purpose"] = "hot air balloon"
    applicants.loc[1, "checking_account_status"] = None
    applicants.loc[2, "duration_months"] = None
    applicants.to_csv(directory / "applicants.csv", index=False)
    result = credit(
        "train", "--data", "train.csv", "--target", "outcome", "--bad-value", "bad",
        "--out", "model", cwd=directory,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "out of fold" in result.stdout
    return directory


def test_train_writes_model_and_metadata(workdir: Path) -> None:
    assert sorted(p.name for p in (workdir / "model").iterdir()) == ["metadata.json", "model.json"]
    metadata = json.loads((workdir / "model" / "metadata.json").read_text())
    assert metadata["training_data"]["rows"] == 500
    assert metadata["metrics"]["out_of_fold"]["auc"] > 0.7


def test_score_writes_one_row_per_applicant_in_order(workdir: Path) -> None:
    result = credit(
        "score", "--model", "model", "--data", "applicants.csv", "--out", "scores.csv", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    with (workdir / "scores.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 60
    assert list(rows[0]) == ["probability_bad", "score", "reasons"]
    assert "Purpose: hot air balloon (not seen in the development data)" in rows[0]["reasons"]
    assert all(0 <= float(r["probability_bad"]) <= 1 for r in rows)
    # scoring the rows reversed gives the same scores reversed
    lines = (workdir / "applicants.csv").read_text().splitlines()
    (workdir / "reversed.csv").write_text("\n".join([lines[0], *lines[:0:-1]]) + "\n")
    again = run(
        ["score", "--model", workdir / "model", "--data", workdir / "reversed.csv",
         "--out", workdir / "rev.csv"]
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    with (workdir / "rev.csv").open(newline="") as stream:
        reversed_rows = list(csv.DictReader(stream))
    assert [r["score"] for r in reversed_rows] == [r["score"] for r in rows][::-1]


def test_stability_compare_and_evaluate_report(workdir: Path) -> None:
    result = run(["stability", "--model", workdir / "model", "--data", workdir / "applicants.csv"])
    assert result.exit_code == 0, result.output
    assert "score PSI" in result.output
    assert "checking_account_status" in result.output
    result = run(
        ["compare", "--champion", workdir / "model", "--challenger", workdir / "model",
         "--data", workdir / "train.csv", "--target", "outcome", "--bad-value", "bad"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "keep champion (no significant difference)" in result.output
    result = run(
        ["evaluate", "--data", workdir / "train.csv", "--target", "outcome", "--bad-value", "bad",
         "--splits", "2"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "holdout-30%-seed-1" in result.output
    assert "mean test AUC over 2 splits" in result.output


def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("x,y\n1,good\n2,good\n3,good\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x00garbage")
    model: list[str | Path] = ["--out", tmp_path / "m"]
    cases: list[tuple[list[str | Path], str]] = [
        (["train", "--data", tmp_path / "one.csv", "--target", "y", "--bad-value", "bad", *model], "single class"),
        (["train", "--data", tmp_path / "one.csv", "--target", "z", "--bad-value", "bad", *model], "'z' not found"),
        (["train", "--data", tmp_path / "binary.csv", "--target", "y", "--bad-value", "bad", *model], "cannot read"),
        (["train", "--data", tmp_path / "absent.csv", "--target", "y", "--bad-value", "bad", *model], "no such file"),
        (["score", "--model", tmp_path / "absent", "--data", tmp_path / "one.csv", "--out", tmp_path / "s.csv"], "does not exist"),
        (["stability", "--model", tmp_path / "absent", "--data", tmp_path / "one.csv"], "does not exist"),
        (["compare", "--champion", tmp_path, "--challenger", tmp_path, "--data", tmp_path / "one.csv",
          "--target", "y", "--bad-value", "bad"], "no model.json"),
    ]  # fmt: skip
    for arguments, message in cases:
        result = run(arguments)
        assert result.exit_code == 2, arguments
        assert message in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.csv", "one.csv"]


def test_score_with_unreadable_data_keeps_the_previous_output(
    workdir: Path, tmp_path: Path
) -> None:
    (tmp_path / "scores.csv").write_text("previous\n")
    (tmp_path / "empty.csv").write_text("")
    result = run(
        ["score", "--model", workdir / "model", "--data", tmp_path / "empty.csv",
         "--out", tmp_path / "scores.csv"]
    )  # fmt: skip
    assert result.exit_code == 2
    assert (tmp_path / "scores.csv").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "scores.csv"]


def test_header_only_file_scores_to_an_empty_table(workdir: Path, tmp_path: Path) -> None:
    header = (workdir / "applicants.csv").read_text().splitlines()[0]
    (tmp_path / "none.csv").write_text(header + "\n")
    out = tmp_path / "scores.csv"
    result = run(
        ["score", "--model", workdir / "model", "--data", tmp_path / "none.csv", "--out", out]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text() == "probability_bad,score,reasons\n"


def test_too_little_data_trains_without_out_of_fold_metrics(tmp_path: Path) -> None:
    (tmp_path / "tiny.csv").write_text("x,c,y\n1,a,bad\n2,b,good\n3,a,good\n")
    common: list[str | Path] = [
        "--data",
        tmp_path / "tiny.csv",
        "--target",
        "y",
        "--bad-value",
        "bad",
    ]
    result = run(["train", *common, "--out", tmp_path / "m"])
    assert result.exit_code == 0, result.output
    metadata = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert metadata["metrics"]["out_of_fold"]["auc"] is None
    result = run(["evaluate", *common, "--splits", "2"])
    assert result.exit_code == 2
    assert "too few rows of each class" in result.output
