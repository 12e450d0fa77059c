"""Typed, validated configuration of the transaction monitoring rules.

Money thresholds are integer minor units of CNY (fen) unless the field name says USD; windows are
whole hours or days; percentages are `Decimal`. Every rule is checked when the configuration is
built, so a rule set with an impossible threshold is refused at save time with the field named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from branchdesk.risk.aml.currencies import DEFAULT_CURRENCIES, CurrencyInfo

__all__ = [
    "DEFAULT_CURRENCIES",
    "CrossBorderRule",
    "CurrencyInfo",
    "CycleRule",
    "DormantRule",
    "FanRule",
    "HookPolicy",
    "LargeCashRule",
    "PassThroughRule",
    "RuleConfig",
    "RuleConfigError",
    "StructuringRule",
    "load_config",
]


class RuleConfigError(ValueError):
    """A rule configuration that cannot be saved; `field` names the offending setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise RuleConfigError(name, f"must be a positive whole number, got {value!r}")


def _percent(name: str, value: Decimal, *, low: Decimal, high: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not low < value <= high:
        raise RuleConfigError(name, f"must be a percentage in ({low}, {high}], got {value}")


def _channels(name: str, value: tuple[str, ...]) -> None:
    allowed = {"cash", "transfer", "remittance", "card", "atm"}
    if not value or any(channel not in allowed for channel in value):
        raise RuleConfigError(name, f"must be a non-empty subset of {sorted(allowed)}")


@dataclass(frozen=True)
class LargeCashRule:
    """PBOC large-value cash report: single or same-day cumulative, per customer and direction."""

    enabled: bool = True
    cny_threshold_minor: int = 5_000_000  # RMB 50,000 (inclusive)
    usd_threshold_minor: int = 1_000_000  # USD 10,000 equivalent for foreign currency (inclusive)
    channels: tuple[str, ...] = ("cash",)

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.cny_threshold_minor", self.cny_threshold_minor)
        _positive(f"{prefix}.usd_threshold_minor", self.usd_threshold_minor)
        _channels(f"{prefix}.channels", self.channels)


@dataclass(frozen=True)
class CrossBorderRule:
    """Large-value cross-border transfer report (report-only), USD-equivalent threshold."""

    enabled: bool = True
    usd_threshold_minor: int = 1_000_000  # USD 10,000 equivalent, single or same-day cumulative
    home_country: str = "CN"
    channels: tuple[str, ...] = ("transfer", "remittance")

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.usd_threshold_minor", self.usd_threshold_minor)
        if len(self.home_country) != 2 or not self.home_country.isupper():
            raise RuleConfigError(f"{prefix}.home_country", "must be an ISO 3166 alpha-2 code")
        _channels(f"{prefix}.channels", self.channels)


@dataclass(frozen=True)
class StructuringRule:
    """Repeated cash amounts in a band just under the reporting line within a short window."""

    enabled: bool = True
    reporting_line_minor: int = 5_000_000
    band_low_pct: Decimal = Decimal(80)  # band is [80% of the line, the line)
    min_count: int = 2
    window_hours: int = 168
    share_lookback_days: int = 60  # before and after the window
    min_band_share_pct: Decimal = Decimal(75)  # in-band share of the account's cash in lookback
    share_floor_pct: Decimal = Decimal(50)  # cash under 50% of the line is left out of the share
    min_bunching_ratio: int = 2  # in-band count must exceed this times the mirror band above

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.reporting_line_minor", self.reporting_line_minor)
        _percent(f"{prefix}.band_low_pct", self.band_low_pct, low=Decimal(0), high=Decimal(100))
        if self.band_low_pct >= 100:
            raise RuleConfigError(
                f"{prefix}.band_low_pct", "the structuring band must lie below the reporting line"
            )
        _positive(f"{prefix}.min_count", self.min_count)
        if self.min_count < 2:
            raise RuleConfigError(f"{prefix}.min_count", "structuring needs at least 2 amounts")
        _positive(f"{prefix}.window_hours", self.window_hours)
        _positive(f"{prefix}.share_lookback_days", self.share_lookback_days)
        _percent(
            f"{prefix}.min_band_share_pct",
            self.min_band_share_pct,
            low=Decimal(0),
            high=Decimal(100),
        )
        _percent(
            f"{prefix}.share_floor_pct", self.share_floor_pct, low=Decimal(0), high=Decimal(100)
        )
        if isinstance(self.min_bunching_ratio, bool) or self.min_bunching_ratio < 0:
            raise RuleConfigError(f"{prefix}.min_bunching_ratio", "must be zero or more")
        if self.share_floor_pct > self.band_low_pct:
            raise RuleConfigError(f"{prefix}.share_floor_pct", "must not exceed band_low_pct")

    @property
    def band_low_minor(self) -> int:
        return int(self.reporting_line_minor * self.band_low_pct / 100)


@dataclass(frozen=True)
class PassThroughRule:
    """A large inflow that mostly leaves again within about a day."""

    enabled: bool = True
    min_inflow_minor: int = 8_000_000  # RMB 80,000: well over a day of ordinary business takings
    window_hours: int = 48
    min_outflow_pct: Decimal = Decimal(80)
    # outflows far above what came in are paid from an older balance (a business paying its
    # supplier from weeks of takings), which is not money passing through
    max_outflow_pct: Decimal = Decimal(150)
    ignore_known_payees: bool = True  # outflows to payees paid at other times don't count
    known_lookback_days: int = 90

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.min_inflow_minor", self.min_inflow_minor)
        _positive(f"{prefix}.window_hours", self.window_hours)
        _percent(
            f"{prefix}.min_outflow_pct", self.min_outflow_pct, low=Decimal(0), high=Decimal(100)
        )
        _positive(f"{prefix}.known_lookback_days", self.known_lookback_days)
        if not self.max_outflow_pct.is_finite() or self.max_outflow_pct < self.min_outflow_pct:
            raise RuleConfigError(f"{prefix}.max_outflow_pct", "must be >= min_outflow_pct")


@dataclass(frozen=True)
class FanRule:
    """Many distinct counterparties in a short window, with the money moving on."""

    enabled: bool = True
    min_counterparties: int = 8
    window_hours: int = 168
    min_txn_minor: int = 100_000  # RMB 1,000: payments below this (small payers) are not counted
    min_total_minor: int = 5_000_000  # RMB 50,000 through the fan
    move_window_hours: int = 96  # how long around the fan the opposite movement may happen
    min_moved_pct: Decimal = Decimal(70)
    channels: tuple[str, ...] = ("transfer", "remittance")
    new_counterparties_only: bool = True  # relations seen at other times (within lookback) skip
    known_lookback_days: int = 90

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.known_lookback_days", self.known_lookback_days)
        _positive(f"{prefix}.min_counterparties", self.min_counterparties)
        if self.min_counterparties < 2:
            raise RuleConfigError(f"{prefix}.min_counterparties", "a fan needs at least 2")
        _positive(f"{prefix}.window_hours", self.window_hours)
        _positive(f"{prefix}.min_txn_minor", self.min_txn_minor)
        _positive(f"{prefix}.min_total_minor", self.min_total_minor)
        _positive(f"{prefix}.move_window_hours", self.move_window_hours)
        _percent(f"{prefix}.min_moved_pct", self.min_moved_pct, low=Decimal(0), high=Decimal(100))
        _channels(f"{prefix}.channels", self.channels)


@dataclass(frozen=True)
class DormantRule:
    """No activity for a configurable window, then large movements."""

    enabled: bool = True
    dormant_days: int = 120
    lookahead_days: int = 30
    min_movement_minor: int = 2_000_000  # RMB 20,000 in or out after reactivation
    count_export_start: bool = True  # silence since the first day of the export counts

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.dormant_days", self.dormant_days)
        _positive(f"{prefix}.lookahead_days", self.lookahead_days)
        _positive(f"{prefix}.min_movement_minor", self.min_movement_minor)


@dataclass(frozen=True)
class CycleRule:
    """Funds returning to their origin through 2..k other accounts of this bank."""

    enabled: bool = True
    min_other_accounts: int = 2
    max_other_accounts: int = 5
    window_hours: int = 168
    min_amount_minor: int = 1_000_000  # RMB 10,000 on the first hop
    min_hop_ratio_pct: Decimal = Decimal(80)  # next hop keeps at least 80% of the previous
    max_hop_ratio_pct: Decimal = Decimal(105)

    def validate(self, prefix: str) -> None:
        _positive(f"{prefix}.min_other_accounts", self.min_other_accounts)
        if self.min_other_accounts < 2:
            raise RuleConfigError(f"{prefix}.min_other_accounts", "a cycle needs 2 other accounts")
        _positive(f"{prefix}.max_other_accounts", self.max_other_accounts)
        if self.max_other_accounts < self.min_other_accounts:
            raise RuleConfigError(f"{prefix}.max_other_accounts", "must be >= min_other_accounts")
        if self.max_other_accounts > 8:
            raise RuleConfigError(f"{prefix}.max_other_accounts", "at most 8 (search cost)")
        _positive(f"{prefix}.window_hours", self.window_hours)
        _positive(f"{prefix}.min_amount_minor", self.min_amount_minor)
        _percent(
            f"{prefix}.min_hop_ratio_pct", self.min_hop_ratio_pct, low=Decimal(0), high=Decimal(100)
        )
        if not self.max_hop_ratio_pct >= 100:
            raise RuleConfigError(f"{prefix}.max_hop_ratio_pct", "must be at least 100")


@dataclass(frozen=True)
class HookPolicy:
    """How findings on a new posting become a decision: hold for review or block."""

    block_score: Decimal = Decimal(1)  # below it a suspicion holds the posting for review
    block_typologies: tuple[str, ...] = ("cycle",)

    def validate(self, prefix: str) -> None:
        if not Decimal(0) < self.block_score <= Decimal(1):
            raise RuleConfigError(f"{prefix}.block_score", "must be in (0, 1]")


# the typologies the rules detect: each has its rule under that name in RuleConfig
TYPOLOGIES = (
    "large_cash",
    "cross_border",
    "structuring",
    "pass_through",
    "fan_in",
    "fan_out",
    "dormant_reactivation",
    "cycle",
)


@dataclass(frozen=True)
class RuleConfig:
    """All typologies, the FX table and the reporting day's UTC offset."""

    large_cash: LargeCashRule = field(default_factory=LargeCashRule)
    cross_border: CrossBorderRule = field(default_factory=CrossBorderRule)
    structuring: StructuringRule = field(default_factory=StructuringRule)
    pass_through: PassThroughRule = field(default_factory=PassThroughRule)
    fan_in: FanRule = field(default_factory=FanRule)
    fan_out: FanRule = field(default_factory=FanRule)
    dormant_reactivation: DormantRule = field(default_factory=DormantRule)
    cycle: CycleRule = field(default_factory=CycleRule)
    hook: HookPolicy = field(default_factory=HookPolicy)
    currencies: Mapping[str, CurrencyInfo] = field(default_factory=lambda: dict(DEFAULT_CURRENCIES))
    day_offset_minutes: int = 480  # reporting day boundaries in Beijing time (UTC+08:00)

    def __post_init__(self) -> None:
        for name in (*TYPOLOGIES, "hook"):
            getattr(self, name).validate(name)
        if "CNY" not in self.currencies or "USD" not in self.currencies:
            raise RuleConfigError("currencies", "the FX table must contain CNY and USD")
        if self.currencies["CNY"].cny_per_unit != 1:
            raise RuleConfigError("currencies.CNY", "CNY must have rate 1")
        for code, info in self.currencies.items():
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise RuleConfigError(f"currencies.{code}", "must be an ISO 4217 code")
            if not 0 <= info.exponent <= 4:
                raise RuleConfigError(f"currencies.{code}.exponent", "must be between 0 and 4")
            rate = info.cny_per_unit
            if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
                raise RuleConfigError(f"currencies.{code}.cny_per_unit", "must be positive")
        if not -14 * 60 <= self.day_offset_minutes <= 14 * 60:
            raise RuleConfigError("day_offset_minutes", "must be within +-14 hours")

    @property
    def day_timezone(self) -> timezone:
        return timezone(timedelta(minutes=self.day_offset_minutes))

    def to_dict(self) -> dict[str, Any]:
        plain = _to_plain(self)
        assert isinstance(plain, dict)
        return plain


def _to_plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _coerce(name: str, current: object, raw: object) -> object:
    """Convert a JSON value to the type of the default it replaces, naming the field on error."""
    if isinstance(current, bool):
        if not isinstance(raw, bool):
            raise RuleConfigError(name, f"must be true or false, got {raw!r}")
        return raw
    if isinstance(current, int):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise RuleConfigError(name, f"must be a whole number, got {raw!r}")
        return raw
    if isinstance(current, Decimal):
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise RuleConfigError(name, f"must be a number as integer or string, got {raw!r}")
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            raise RuleConfigError(name, f"is not a number: {raw!r}") from None
    if isinstance(current, str):
        if not isinstance(raw, str):
            raise RuleConfigError(name, f"must be a string, got {raw!r}")
        return raw
    if isinstance(current, tuple):
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise RuleConfigError(name, "must be a list of strings")
        return tuple(raw)
    raise RuleConfigError(name, "cannot be configured")


def _merge(prefix: str, base: Any, raw: object) -> Any:
    if not isinstance(raw, dict):
        raise RuleConfigError(prefix, "must be an object")
    known = {f.name for f in fields(base)}
    changes: dict[str, object] = {}
    for key, value in raw.items():
        if key not in known:
            raise RuleConfigError(f"{prefix}.{key}", "unknown setting")
        changes[key] = _coerce(f"{prefix}.{key}", getattr(base, key), value)
    candidate = replace(base, **changes)
    candidate.validate(prefix)
    return candidate


def config_from_dict(raw: Mapping[str, object]) -> RuleConfig:
    """Build and validate a RuleConfig from plain JSON data; raises RuleConfigError."""
    base = RuleConfig()
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "currencies":
            changes[key] = _currencies(value)
        elif key == "day_offset_minutes":
            changes[key] = _coerce(key, base.day_offset_minutes, value)
        elif key in {f.name for f in fields(RuleConfig)}:
            changes[key] = _merge(key, getattr(base, key), value)
        else:
            raise RuleConfigError(key, "unknown setting")
    return replace(base, **changes)


def _currencies(raw: object) -> dict[str, CurrencyInfo]:
    if not isinstance(raw, dict):
        raise RuleConfigError("currencies", "must be an object of code -> {exponent, cny_per_unit}")
    table: dict[str, CurrencyInfo] = dict(DEFAULT_CURRENCIES)  # entries given replace defaults
    for code, spec in raw.items():
        name = f"currencies.{code}"
        if not isinstance(spec, dict) or set(spec) != {"exponent", "cny_per_unit"}:
            raise RuleConfigError(name, "needs exactly exponent and cny_per_unit")
        exponent = _coerce(f"{name}.exponent", 0, spec["exponent"])
        rate = _coerce(f"{name}.cny_per_unit", Decimal(0), spec["cny_per_unit"])
        assert isinstance(exponent, int)
        assert isinstance(rate, Decimal)
        table[str(code)] = CurrencyInfo(exponent, rate)
    return table


def load_config(path: Path | None) -> RuleConfig:
    """Read rules from a JSON file (missing settings keep their defaults)."""
    if path is None:
        return RuleConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RuleConfigError(str(path), f"not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RuleConfigError(str(path), "must hold a JSON object")
    return config_from_dict(raw)


def save_config(config: RuleConfig, path: Path) -> None:
    """Validate (again) and write the rules as JSON; refuses impossible thresholds."""
    checked = config_from_dict(config.to_dict())
    path.write_text(json.dumps(checked.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
