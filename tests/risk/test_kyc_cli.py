"""`branchdesk kyc screen|rate`: outputs, and malformed input stopping with file:line:column."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from branchdesk.risk.cli import kyc_app
from branchdesk.risk.kyc.io import KycFormatError, read_customers, read_watchlist

CUSTOMERS = """\
customer_id,customer_type,name,aliases,birth_date,country,residence_country,occupation,id_type,id_number,id_expires_on,address,phone,is_pep,products,channels,cash_share_percent
C1,individual,陳大文,CHAN Tai Man,1970-03-04,HK,HK,teacher,hk_id,A1234563,2030-01-01,"1 Queen's Road, Central",+852 2123 4567,false,savings,branch,5
C2,individual,王小明,,1985-06-01,CN,CN,money_changer,cn_resident_id,110101198506010011,2026-12-10,Beijing,+86 138 0000 0000,no,savings;cross_border_remittance,online,70
C3,individual,"Smith, John",,1960-01-01,US,US,teacher,passport,X1,2025-01-01,1 Main St,+1 555 0100,true,,branch,
"""
WATCHLIST = """\
entry_id,name,aliases,birth_date,country,list_source,listed_on
W1,"CHEN, Da-Wen",陳大文,1970-03-04,HK,UN,2024-05-01
W2,WANG Xiaoming,,1990,CN,OFAC,2025-01-01
W3,John Smith,,1960,US,EU,2023-01-01
"""

runner = CliRunner()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_screen_writes_the_hits_with_reasons(tmp_path: Path) -> None:
    customers = _write(tmp_path, "c.csv", CUSTOMERS)
    watchlist = _write(tmp_path, "w.csv", WATCHLIST)
    out = tmp_path / "hits.csv"
    result = runner.invoke(
        kyc_app,
        ["screen", "--customers", str(customers), "--watchlist", str(watchlist), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"2 hits for 2 customers written to {out}")
    rows = _rows(out)
    assert [(r["customer_id"], r["entry_id"], r["score"]) for r in rows] == [
        ("C1", "W1", "1.0000"),
        ("C3", "W3", "1.0000"),
    ]
    assert rows[0]["birth_date_agreement"] == "same"
    assert rows[1]["birth_date_agreement"] == "same year only"
    assert rows[0]["reasons"].startswith("name 1.00 (same characters:")
    # 王小明 born 1985 is not the WANG Xiaoming born 1990, even at a low threshold
    low = tmp_path / "low.csv"
    result = runner.invoke(
        kyc_app,
        [
            "screen",
            "--customers",
            str(customers),
            "--watchlist",
            str(watchlist),
            "--out",
            str(low),
            "--threshold",
            "0.75",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "W2" not in {r["entry_id"] for r in _rows(low)}


def test_rate_writes_levels_reasons_and_reminders(tmp_path: Path) -> None:
    customers = _write(tmp_path, "c.csv", CUSTOMERS)
    watchlist = _write(tmp_path, "w.csv", WATCHLIST)
    out = tmp_path / "r.csv"
    result = runner.invoke(
        kyc_app,
        ["rate", "--customers", str(customers), "--out", str(out), "--today", "2026-11-29"],
    )
    assert result.exit_code == 0, result.output
    assert "3 customers rated (low 1, medium 0, high 2) on 2026-11-29" in result.output
    rows = {r["customer_id"]: r for r in _rows(out)}
    assert rows["C1"]["level"] == "low"
    assert rows["C1"]["next_reminder_on"] == "2029-11-02"
    assert rows["C2"]["level"] == "high"
    assert rows["C2"]["id_status"] == "expiring"
    assert rows["C2"]["reasons"] == (
        "high-risk occupation money_changer; high-risk products cross_border_remittance; "
        "non-face-to-face channels only (online); cash-intensive (70% in cash)"
    )
    assert rows["C3"]["reasons"] == (
        "politically exposed person; ID expired on 2025-01-01 (697 days ago)"
    )
    with_list = tmp_path / "r2.csv"
    result = runner.invoke(
        kyc_app,
        [
            "rate",
            "--customers",
            str(customers),
            "--out",
            str(with_list),
            "--today",
            "2026-11-29",
            "--watchlist",
            str(watchlist),
        ],
    )
    assert result.exit_code == 0, result.output
    first = _rows(with_list)[0]
    assert (first["customer_id"], first["level"]) == ("C1", "high")
    assert "possible watch-list match '陳大文' (UN W1, score 1.00)" in first["reasons"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CUSTOMERS.replace("1985-06-01", "1985-13-01"),
            "c.csv:3:5: birth_date: no such date '1985-13-01'",
        ),
        (
            CUSTOMERS.replace(",CN,CN,", ",China,CN,"),
            "c.csv:3:6: country: expected an ISO 3166 alpha-2 code like CN, got 'China'",
        ),
        (
            CUSTOMERS.replace("individual,王小明", "person,王小明"),
            "c.csv:3:2: customer_type: expected one of individual, business, got 'person'",
        ),
        (CUSTOMERS.replace(",70\n", ",170\n"), "c.csv:3:17: cash_share_percent: expected"),
        (CUSTOMERS.replace("\nC3,", "\nC1,"), "c.csv:4:1: customer_id 'C1' already on line 2"),
        (CUSTOMERS.replace(",false,savings", ",maybe,savings"), "c.csv:2:14: is_pep: expected"),
        (CUSTOMERS.replace(",branch,5\n", ",branch\n"), "c.csv:2:1: expected 17 fields, found 16"),
        (CUSTOMERS.replace("customer_type,", "kind,", 1), "c.csv:1:2: unknown column 'kind'"),
        (CUSTOMERS.replace(",王小明,", ",,"), "c.csv:3:3: name: must not be empty"),
    ],
)
def test_malformed_customers_stop_with_file_line_column_and_write_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    customers = _write(tmp_path, "c.csv", text)
    watchlist = _write(tmp_path, "w.csv", WATCHLIST)
    for command in ("screen", "rate"):
        out = tmp_path / f"{command}.csv"
        args = [command, "--customers", str(customers), "--out", str(out)]
        if command == "screen":
            args += ["--watchlist", str(watchlist)]
        result = runner.invoke(kyc_app, args)
        assert result.exit_code == 2
        assert message in result.output
        assert result.output.startswith(str(customers))
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "w.csv"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (WATCHLIST.replace(",1990,", ",90,"), "w.csv:3:4: birth_date: expected a date"),
        (WATCHLIST.replace(",OFAC,", ",,"), "w.csv:3:6: list_source: must not be empty"),
        (WATCHLIST.replace("2023-01-01", "01/01/2023"), "w.csv:4:7: listed_on: expected a date"),
        (WATCHLIST.replace("list_source,", ""), "w.csv:1:1: missing required column"),
    ],
)
def test_malformed_watchlist_stops_and_writes_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    customers = _write(tmp_path, "c.csv", CUSTOMERS)
    watchlist = _write(tmp_path, "w.csv", text)
    out = tmp_path / "hits.csv"
    result = runner.invoke(
        kyc_app,
        ["screen", "--customers", str(customers), "--watchlist", str(watchlist), "--out", str(out)],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_readers_accept_bom_crlf_quotes_and_blank_lines(tmp_path: Path) -> None:
    text = "\ufeff" + CUSTOMERS.replace("\n", "\r\n") + "\r\n"
    customers = read_customers(_write(tmp_path, "c.csv", text))
    assert [c.customer_id for c in customers] == ["C1", "C2", "C3"]
    assert customers[0].address == "1 Queen's Road, Central"
    assert customers[1].products == ("savings", "cross_border_remittance")
    entries = read_watchlist(_write(tmp_path, "w.csv", WATCHLIST))
    assert entries[0].names == ("CHEN, Da-Wen", "陳大文")
    assert (entries[1].birth_date, entries[1].birth_year) == (None, 1990)
    with pytest.raises(KycFormatError) as caught:
        read_customers(tmp_path / "missing.csv")
    assert caught.value.line == 0
    assert "cannot read" in str(caught.value)


def test_unknown_today_and_unwritable_output(tmp_path: Path) -> None:
    customers = _write(tmp_path, "c.csv", CUSTOMERS)
    result = runner.invoke(
        kyc_app,
        ["rate", "--customers", str(customers), "--out", str(tmp_path / "r.csv"), "--today", "x"],
    )
    assert (result.exit_code, result.output.strip()) == (2, "--today: expected YYYY-MM-DD, got 'x'")
    result = runner.invoke(
        kyc_app,
        ["rate", "--customers", str(customers), "--out", str(tmp_path / "no" / "r.csv")],
    )
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_kyc_group_is_registered_on_the_branchdesk_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "branchdesk", "kyc", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "screen" in done.stdout
    assert "rate" in done.stdout


def test_generate_writes_files_that_read_back_and_screen_finds_the_planted(tmp_path: Path) -> None:
    customers, watchlist = tmp_path / "c.csv", tmp_path / "w.csv"
    result = runner.invoke(
        kyc_app,
        [
            "generate",
            "--seed",
            "5",
            "--customers",
            "300",
            "--entries",
            "200",
            "--planted",
            "10",
            "--out-customers",
            str(customers),
            "--out-watchlist",
            str(watchlist),
        ],
    )
    assert result.exit_code == 0, result.output
    people, entries = read_customers(customers), read_watchlist(watchlist)
    assert (len(people), len(entries)) == (300, 200)
    out = tmp_path / "hits.csv"
    result = runner.invoke(
        kyc_app,
        ["screen", "--customers", str(customers), "--watchlist", str(watchlist), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    found = {row["entry_id"] for row in _rows(out)}
    assert {f"W{n:06d}" for n in range(10)} <= found
