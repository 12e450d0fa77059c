"""`branchdesk recommend ...` end to end, in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

AS_OF = "2025-06-30"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "branchdesk", "recommend", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bank")
    result = _run("generate", "--seed", "4", "--out-dir", str(directory), "--customers", "300")
    assert result.returncode == 0, result.stderr
    return directory


def _batch(bank: Path, out: Path, **files: Path) -> subprocess.CompletedProcess[str]:
    paths = {name: bank / f"{name}.csv" for name in ("customers", "products", "holdings")}
    paths.update(files)
    return _run(
        "batch",
        "--customers", str(paths["customers"]),
        "--products", str(paths["products"]),
        "--holdings", str(paths["holdings"]),
        "--as-of", AS_OF,
        "--k", "3",
        "--out", str(out),
    )  # fmt: skip


def test_batch_writes_ranked_rows_and_a_decision_log(bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "R.csv"
    result = _batch(bank, out)
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["customer_id", "rank", "product_code"]
    with (bank / "customers.csv").open(newline="", encoding="utf-8") as handle:
        customer_ids = [row["customer_id"] for row in csv.DictReader(handle)]
    per_customer: dict[str, list[int]] = {}
    for row in rows:
        per_customer.setdefault(row["customer_id"], []).append(int(row["rank"]))
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in per_customer.values())
    assert all(1 <= len(ranks) <= 3 for ranks in per_customer.values())
    log_lines = (tmp_path / "R.log.jsonl").read_text(encoding="utf-8").splitlines()
    header, records = json.loads(log_lines[0]), [json.loads(line) for line in log_lines[1:]]
    assert header["rule_version"].startswith("recommend-rules-")
    assert [record["customer_id"] for record in records] == customer_ids
    for record in records:
        if record["customer_id"] in per_customer:
            assert len(record["recommendations"]) == len(per_customer[record["customer_id"]])
            assert all(item["reason"] for item in record["recommendations"])
        else:
            assert record["no_recommendation_reason"]
    assert len(per_customer) > 250
    assert f"written to {out}" in result.stdout


def test_malformed_input_names_file_line_column_and_writes_nothing(
    bank: Path, tmp_path: Path
) -> None:
    products = tmp_path / "products.csv"
    lines = (bank / "products.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[4].split(",")
    fields[3] = "R9"
    lines[4] = ",".join(fields)
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "R.csv"
    result = _batch(bank, out, products=products)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{products}:5:4: risk_level: 'R9' is not one of R1-R5"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["products.csv"]


def test_unknown_product_in_holdings_keeps_the_previous_output(bank: Path, tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    text = (bank / "holdings.csv").read_text(encoding="utf-8")
    holdings.write_text(text + "C0000001,NOPE,2024-01-01\n", encoding="utf-8")
    line = len(text.splitlines()) + 1
    out = tmp_path / "R.csv"
    out.write_text("previous\n", encoding="utf-8")
    result = _batch(bank, out, holdings=holdings)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{holdings}:{line}:2: product_code: unknown product code 'NOPE'"
    )
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R.csv", "holdings.csv"]


def test_bad_as_of_date_exits_2(bank: Path, tmp_path: Path) -> None:
    result = _run(
        "batch",
        "--customers", str(bank / "customers.csv"),
        "--products", str(bank / "products.csv"),
        "--holdings", str(bank / "holdings.csv"),
        "--as-of", "30/06/2025",
        "--k", "3",
        "--out", str(tmp_path / "R.csv"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--as-of" in result.stderr
    assert not (tmp_path / "R.csv").exists()


def test_evaluate_reports_both_maps(bank: Path) -> None:
    result = _run(
        "evaluate",
        "--customers", str(bank / "customers.csv"),
        "--products", str(bank / "products.csv"),
        "--holdings", str(bank / "holdings.csv"),
        "--truth", str(bank / "truth.csv"),
        "--as-of", AS_OF,
        "--k", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "MAP@3 model:" in result.stdout
    assert "violations: model unsuitable 0, already held 0" in result.stdout
