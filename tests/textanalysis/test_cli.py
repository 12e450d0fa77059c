"""`branchdesk textanalysis classify|topics|train|evaluate` on files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from branchdesk.core.db import Database
from branchdesk.textanalysis import model as model_module
from branchdesk.textanalysis.cli import textanalysis_app
from branchdesk.textanalysis.model import TextModel


def _run(*arguments: object) -> Result:
    return CliRunner().invoke(textanalysis_app, [str(a) for a in arguments])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_classify_keeps_row_order_and_survives_garbage(tmp_path: Path) -> None:
    source = tmp_path / "texts.csv"
    source.write_text(
        "id,text\n"
        "c1,櫃員態度很差，一直不耐煩\n"
        "c2,\n"
        "c3,%$#@!!\n"
        "c4,手机银行更新后一直闪退\n"
        'c5,"The teller was rude, and impatient"\n'
        "c6\n"
        "c7,qwertyuiop asdfghjkl\n",
        encoding="utf-8",
    )
    out = tmp_path / "labels.csv"
    result = _run("classify", "--in", source, "--out", out)
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    assert [r["category"] for r in rows] == [
        "staff_attitude",
        "other",
        "other",
        "digital_channels",
        "staff_attitude",
        "other",
        "other",
    ]
    assert [r["language"] for r in rows][0::3] == ["zh-Hant", "zh-Hans", "en"]
    for index in (1, 2, 5, 6):
        assert float(rows[index]["category_confidence"]) == pytest.approx(0.1)
    assert all(0.0 <= float(r["sentiment_confidence"]) <= 1.0 for r in rows)


def test_classify_refuses_a_file_without_a_text_column(tmp_path: Path) -> None:
    source = tmp_path / "texts.csv"
    source.write_text("id,comment\n1,hello\n", encoding="utf-8")
    out = tmp_path / "labels.csv"
    result = _run("classify", "--in", source, "--out", out)
    assert result.exit_code == 2
    assert "'text' column" in result.output
    assert not out.exists()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"text\n\xff\xfe\x00")
    assert _run("classify", "--in", binary, "--out", out).exit_code == 2
    assert _run("classify", "--in", tmp_path / "missing.csv", "--out", out).exit_code == 2
    assert not out.exists()


def test_topics_writes_keywords_topics_and_category_counts(tmp_path: Path) -> None:
    source = tmp_path / "texts.csv"
    lines = ["text,date"]
    lines += [f"排隊排了很久，櫃檯太少 {i},2026-11-0{2 + i % 3}" for i in range(6)]
    lines += [f"手續費太貴，收費不合理 {i},2026-11-1{i % 3}" for i in range(6)]
    lines += ["no date here,", "bad date,yesterday"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "topics.csv"
    result = _run("topics", "--in", source, "--period", "week", "--out", out, "--topics", "2")
    assert result.exit_code == 0, result.output
    assert "12 texts" in result.output
    assert "2 rows without a valid date skipped" in result.output
    rows = _rows(out)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"keyword", "topic", "category"}
    first = {r["period"]: r["label"] for r in rows if r["kind"] == "keyword" and r["rank"] == "1"}
    # each week leads with its own words (ties between them ordered by term)
    assert first["2026-W45"] in {"排隊", "很久", "櫃檯", "太少"}
    assert first["2026-W46"] in {"手續費", "太貴", "收費", "不合理"}
    categories = {
        (r["period"], r["label"]): int(r["count"]) for r in rows if r["kind"] == "category"
    }
    assert categories[("2026-W45", "waiting_time")] == 6
    assert categories[("2026-W46", "fees_charges")] == 6
    overall = [r for r in rows if r["kind"] == "topic" and r["period"] == "all"]
    assert sorted(int(r["count"]) for r in overall) == [6, 6]


def test_topics_rejects_an_unknown_period(tmp_path: Path) -> None:
    source = tmp_path / "texts.csv"
    source.write_text("text,date\nhello,2026-11-02\n", encoding="utf-8")
    result = _run("topics", "--in", source, "--period", "year", "--out", tmp_path / "t.csv")
    assert result.exit_code == 2
    assert not (tmp_path / "t.csv").exists()


def test_train_writes_a_versioned_artifact_and_evaluate_prints_scores(
    tmp_path: Path, shipped_model: TextModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # training itself is covered elsewhere; here the session's model stands in for it
    monkeypatch.setattr(model_module, "train", lambda examples, corrections=(): shipped_model)
    out = tmp_path / "artifact"
    result = _run("train", "--out", out, "--no-corrections")
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["model_version"] == 1
    assert meta["data_fingerprint"] == shipped_model.data_fingerprint
    assert [s["language"] for s in meta["metrics"]["heldout"]] == [
        "zh-Hant",
        "zh-Hans",
        "en",
        "all",
    ]
    assert (out / "model.pkl").stat().st_size > 0
    result = _run("evaluate", "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores[-1]["language"] == "all"
    assert scores[-1]["examples"] == 135


def test_train_reads_the_stored_corrections_from_the_database(
    tmp_path: Path, shipped_model: TextModel, monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    database_url = database.url
    seen: list[list[object]] = []

    def fake_train(examples: object, corrections: object = ()) -> TextModel:
        seen.append(list(corrections))  # type: ignore[call-overload]
        return shipped_model

    monkeypatch.setattr(model_module, "train", fake_train)
    result = _run("train", "--out", tmp_path / "a", "--url", database_url)
    assert result.exit_code == 0, result.output
    assert seen == [[]]  # the migrated test database holds no committed corrections
    assert "0 corrections" in result.output

    empty = f"sqlite:///{tmp_path / 'not-migrated.db'}"
    result = _run("train", "--out", tmp_path / "b", "--url", empty)
    assert result.exit_code == 2
    assert "branchdesk db upgrade" in result.output
    assert not (tmp_path / "b").exists()
