"""Strict export reading, rule configuration refusal, the pre-posting hook and the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from branchdesk.risk.aml.config import (
    RuleConfig,
    RuleConfigError,
    StructuringRule,
    config_from_dict,
    save_config,
)
from branchdesk.risk.aml.hook import Outcome, check_posting
from branchdesk.risk.aml.io import ExportFormatError, read_export

from .aml_builders import at, post

HEADER = (
    "txn_id,booked_at,account_id,customer_id,direction,amount,currency,channel,"
    "counterparty_account,counterparty_bank,country"
)
GOOD = [
    "T1,2026-01-05T09:00:00+08:00,A1,C1,credit,200000.00,CNY,transfer,X1,ICBK,CN",
    "T2,2026-01-05T12:00:00+08:00,A1,C1,debit,195000.00,CNY,transfer,X2,COMM,CN",
    "T3,2026-01-05T13:00:00+08:00,A2,C2,credit,50000.00,CNY,cash,,,CN",
    "T4,2026-01-05T13:30:00+08:00,A3,C3,credit,9999.99,USD,cash,,,CN",
]


def _write(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "tx.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line_index", "old", "new", "line", "column", "words"),
    [
        (1, "195000.00", "19x000.00", 3, 6, "amount"),
        (1, "195000.00", "-5.00", 3, 6, "amount"),
        (2, "2026-01-05T13:00:00+08:00", "2026-02-30T13:00:00+08:00", 4, 2, "timestamp"),
        (2, "2026-01-05T13:00:00+08:00", "2026-01-05T13:00:00", 4, 2, "UTC offset"),
        (3, "USD", "XYZ", 5, 7, "unknown currency"),
        (3, "9999.99", "9999.999", 5, 6, "decimal places"),
        (0, ",credit,", ",sideways,", 2, 5, "credit or debit"),
        (3, ",CN", "", 5, 1, "expected 11 fields"),
    ],
)
def test_malformed_cell_names_file_line_and_column(
    tmp_path: Path, line_index: int, old: str, new: str, line: int, column: int, words: str
) -> None:
    lines = list(GOOD)
    assert old in lines[line_index]
    lines[line_index] = lines[line_index].replace(old, new)
    path = _write(tmp_path, lines)
    with pytest.raises(ExportFormatError) as caught:
        read_export(path, RuleConfig())
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), line, column)
    assert str(caught.value).startswith(f"{path}:{line}:{column}: ")
    assert words in str(caught.value)


def test_missing_column_is_named(tmp_path: Path) -> None:
    header = HEADER.replace(",currency", "")
    lines = [",".join(x for i, x in enumerate(row.split(",")) if i != 6) for row in GOOD]
    with pytest.raises(ExportFormatError, match=r"tx\.csv:1:7: missing column 'currency'"):
        read_export(_write(tmp_path, lines, header), RuleConfig())


def test_byte_order_mark_crlf_and_trailing_blank_lines_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    text = "\r\n".join([HEADER, *GOOD]) + "\r\n\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert len(read_export(path, RuleConfig())) == 4


def test_blank_line_inside_the_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD[0], "", *GOOD[1:]])
    with pytest.raises(ExportFormatError, match=r"tx\.csv:3:1: expected 11 fields, found a blank"):
        read_export(path, RuleConfig())


def test_reader_keeps_exact_minor_units(tmp_path: Path) -> None:
    tx = read_export(_write(tmp_path, GOOD), RuleConfig())
    assert tx.amount_minor.tolist() == [20_000_000, 19_500_000, 5_000_000, 999_999]
    assert tx.cny_minor.tolist()[-1] == 7_099_993  # USD 9,999.99 at 7.10, half-even


@pytest.mark.parametrize(
    ("raw", "field_name"),
    [
        ({"large_cash": {"cny_threshold_minor": -1}}, "large_cash.cny_threshold_minor"),
        ({"pass_through": {"window_hours": 0}}, "pass_through.window_hours"),
        ({"structuring": {"band_low_pct": "120"}}, "structuring.band_low_pct"),
        ({"structuring": {"band_low_pct": 100}}, "structuring.band_low_pct"),
        ({"fan_in": {"min_moved_pct": "0"}}, "fan_in.min_moved_pct"),
        ({"cycle": {"min_other_accounts": 1}}, "cycle.min_other_accounts"),
        ({"dormant_reactivation": {"dormant_days": 0}}, "dormant_reactivation.dormant_days"),
        ({"fan_out": {"channels": ["teleport"]}}, "fan_out.channels"),
        ({"currencies": {"CNY": {"exponent": 2, "cny_per_unit": "-1"}}}, "currencies.CNY"),
        ({"structuring": {"colour": 1}}, "structuring.colour"),
    ],
)
def test_impossible_rules_are_refused_naming_the_field(
    raw: dict[str, object], field_name: str
) -> None:
    with pytest.raises(RuleConfigError) as caught:
        config_from_dict(raw)
    assert caught.value.field.startswith(field_name)


def test_save_refuses_impossible_thresholds_and_writes_nothing(tmp_path: Path) -> None:
    # rules built in code are checked when the rule set is assembled (before any save)
    with pytest.raises(RuleConfigError, match=r"structuring\.band_low_pct"):
        RuleConfig(structuring=StructuringRule(band_low_pct=Decimal(150)))
    target = tmp_path / "rules.json"
    save_config(RuleConfig(), target)
    assert config_from_dict(json.loads(target.read_text())) == RuleConfig()


def test_hook_holds_the_outflow_that_completes_a_pass_through() -> None:
    inflow = post(at(0), "A1", "credit", "300000.00")
    first = post(at(0, 2), "A1", "debit", "150000.00")
    second = post(at(0, 4), "A1", "debit", "140000.00")
    decision = check_posting([inflow, first], second, RuleConfig())
    assert decision.outcome is Outcome.HOLD
    assert decision.typologies == ("pass_through",)
    ordinary = post(at(0, 4), "A1", "debit", "900.00", "card")
    assert check_posting([inflow], ordinary, RuleConfig()).outcome is Outcome.ALLOW


def test_hook_blocks_the_transfer_that_closes_a_cycle() -> None:
    legs = [
        post(at(0), "A1", "debit", "300000.00", counterparty="B1", bank="SELF", customer="C1"),
        post(at(0, 5), "B1", "debit", "295000.00", counterparty="D1", bank="SELF", customer="C2"),
    ]
    closing = post(at(1), "D1", "debit", "290000.00", counterparty="A1", bank="SELF", customer="C3")
    own_history = [
        post(at(0, 5.1), "D1", "credit", "295000.00", counterparty="B1", bank="SELF", customer="C3")
    ]
    decision = check_posting(own_history, closing, RuleConfig(), related_transfers=legs)
    assert decision.outcome is Outcome.BLOCK
    assert "cycle" in decision.typologies
    assert check_posting(own_history, closing, RuleConfig()).typologies != ("cycle",)


def test_hook_holds_a_second_cash_deposit_just_under_the_line() -> None:
    first = post(at(0), "A1", "credit", "46000.00", "cash")
    second = post(at(1), "A1", "credit", "47000.00", "cash")
    decision = check_posting([first], second, RuleConfig())
    assert decision.outcome is Outcome.HOLD
    assert decision.typologies == ("structuring",)


def test_hook_allows_large_cash_but_files_a_report() -> None:
    deposit = post(at(0), "A1", "credit", "50000.00", "cash")
    decision = check_posting([], deposit, RuleConfig())
    assert decision.outcome is Outcome.ALLOW
    assert len(decision.reports) == 1
    assert decision.reports[0].startswith("large_cash:")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "branchdesk", "aml", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_scan_writes_alerts(tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    result = _cli("scan", "--transactions", str(_write(tmp_path, GOOD)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == [
        "alert_id", "account_id", "customer_id", "typology", "txn_ids", "score", "reason"
    ]  # fmt: skip
    assert {(r["account_id"], r["typology"], r["txn_ids"]) for r in rows} == {
        ("A1", "pass_through", "T1;T2"),
        ("A2", "large_cash", "T3"),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts.csv", "tx.csv"]


def test_cli_malformed_export_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    lines = list(GOOD)
    lines[2] = lines[2].replace("CNY", "ZZZ")
    path = _write(tmp_path, lines)
    out = tmp_path / "alerts.csv"
    result = _cli("scan", "--transactions", str(path), "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{path}:4:7: column 'currency': unknown currency (not in the FX table), got 'ZZZ'"
    )
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]


def test_cli_refuses_impossible_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"structuring": {"band_low_pct": "110"}}), encoding="utf-8")
    out = tmp_path / "alerts.csv"
    path = _write(tmp_path, GOOD)
    result = _cli("scan", "--transactions", str(path), "--out", str(out), "--config", str(rules))
    assert result.returncode == 2
    assert "structuring.band_low_pct" in result.stderr
    assert not out.exists()
