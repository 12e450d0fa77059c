"""Customer risk rating low / medium / high by explainable, configurable rules.

Each rule that fires adds points and a reason in words; the total decides the level
(`medium_at` / `high_at` points). Some facts decide the level by themselves: a politically
exposed person, an unresolved watch-list hit, or a tie to a country under a call for action
make the customer high risk whatever the points say; an incomplete file is at least medium.
Every country, occupation, industry, product and channel list is configuration (JSON through
`load_rating_config`), not code: the defaults are an example, not the bank's policy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from branchdesk.risk.kyc.completeness import IdStatus, kyc_status
from branchdesk.risk.kyc.customer import Customer, CustomerType
from branchdesk.risk.kyc.watchlist import Hit

__all__ = [
    "DEFAULT_RATING",
    "Rating",
    "RatingConfig",
    "RatingConfigError",
    "Reason",
    "RiskLevel",
    "load_rating_config",
    "rate",
]


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


class RatingConfigError(ValueError):
    """A rating configuration that cannot be used; `field` names the setting."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class RatingConfig:
    high_risk_occupations: frozenset[str] = frozenset(
        {"money_changer", "casino_worker", "arms_dealer", "precious_metals_dealer"}
    )
    medium_risk_occupations: frozenset[str] = frozenset(
        {"self_employed", "real_estate_agent", "lawyer", "accountant", "car_dealer", "jeweller"}
    )
    high_risk_industries: frozenset[str] = frozenset(
        {"casino", "money_service_business", "virtual_assets", "arms", "precious_metals"}
    )
    medium_risk_industries: frozenset[str] = frozenset(
        {"real_estate", "construction", "import_export", "car_dealer", "charity", "restaurant"}
    )
    call_for_action_countries: frozenset[str] = frozenset({"KP", "IR", "MM"})
    high_risk_countries: frozenset[str] = frozenset({"SY", "YE", "SS", "VE", "HT"})
    medium_risk_countries: frozenset[str] = frozenset()
    high_risk_products: frozenset[str] = frozenset(
        {"private_banking", "trade_finance", "cross_border_remittance", "safe_deposit_box"}
    )
    non_face_to_face_channels: frozenset[str] = frozenset({"online", "mobile", "agent"})
    cash_share_medium_percent: int = 30
    cash_share_high_percent: int = 60
    points_high_occupation: int = 3
    points_medium_occupation: int = 1
    points_high_country: int = 3
    points_medium_country: int = 1
    points_product: int = 2
    points_remote_only: int = 1
    points_cash_medium: int = 1
    points_cash_high: int = 3
    points_no_beneficial_owner: int = 2
    points_incomplete: int = 2
    points_id_expired: int = 1
    medium_at: int = 3
    high_at: int = 6
    pep_is_high: bool = True
    watchlist_hit_is_high: bool = True
    incomplete_is_at_least_medium: bool = True

    def validate(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            is_number = item.name.startswith(("points_", "cash_share_")) or item.name.endswith(
                "_at"
            )
            if is_number and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise RatingConfigError(item.name, f"must be a whole number >= 0, got {value!r}")
        if not 0 < self.medium_at < self.high_at:
            raise RatingConfigError("high_at", "must be greater than medium_at, both positive")
        if not self.cash_share_medium_percent < self.cash_share_high_percent <= 100:
            raise RatingConfigError(
                "cash_share_high_percent", "must be above cash_share_medium_percent and <= 100"
            )


DEFAULT_RATING = RatingConfig()


@dataclass(frozen=True)
class Reason:
    rule: str
    points: int
    text: str
    forces: RiskLevel | None = None  # the level this fact decides on its own


@dataclass(frozen=True)
class Rating:
    customer_id: str
    level: RiskLevel
    points: int
    reasons: tuple[Reason, ...]

    def explain(self) -> str:
        if not self.reasons:
            return "no risk factor found"
        return "; ".join(reason.text for reason in self.reasons)


def _country_reasons(customer: Customer, config: RatingConfig) -> list[Reason]:
    reasons: list[Reason] = []
    seen: set[str] = set()
    for label, code in (
        ("nationality", customer.country),
        ("residence", customer.residence_country),
    ):
        if not code or code in seen:
            continue
        seen.add(code)
        if code in config.call_for_action_countries:
            reasons.append(
                Reason(
                    "country",
                    config.points_high_country,
                    f"{label} {code} is under a call for action",
                    RiskLevel.HIGH,
                )
            )
        elif code in config.high_risk_countries:
            reasons.append(
                Reason("country", config.points_high_country, f"{label} {code} is high risk")
            )
        elif code in config.medium_risk_countries:
            reasons.append(
                Reason("country", config.points_medium_country, f"{label} {code} is medium risk")
            )
    return reasons


def rate(
    customer: Customer,
    *,
    today: date,
    config: RatingConfig = DEFAULT_RATING,
    watchlist_hits: Sequence[Hit] = (),
) -> Rating:
    """Risk level of one customer on `today`, with every reason that contributed."""
    reasons: list[Reason] = []
    if customer.is_pep:
        forced = RiskLevel.HIGH if config.pep_is_high else None
        reasons.append(Reason("pep", 0, "politically exposed person", forced))
    own_hits = [hit for hit in watchlist_hits if hit.customer_id == customer.customer_id]
    if own_hits:
        best = max(own_hits, key=lambda hit: hit.score)
        forced = RiskLevel.HIGH if config.watchlist_hit_is_high else None
        reasons.append(
            Reason(
                "watchlist",
                0,
                f"possible watch-list match {best.listed_name!r} ({best.list_source} "
                f"{best.entry_id}, score {best.score:.2f}) awaiting review",
                forced,
            )
        )
    if customer.customer_type is CustomerType.INDIVIDUAL:
        if customer.occupation in config.high_risk_occupations:
            reasons.append(
                Reason(
                    "occupation",
                    config.points_high_occupation,
                    f"high-risk occupation {customer.occupation}",
                )
            )
        elif customer.occupation in config.medium_risk_occupations:
            reasons.append(
                Reason(
                    "occupation",
                    config.points_medium_occupation,
                    f"medium-risk occupation {customer.occupation}",
                )
            )
    else:
        if customer.industry in config.high_risk_industries:
            reasons.append(
                Reason(
                    "industry",
                    config.points_high_occupation,
                    f"high-risk industry {customer.industry}",
                )
            )
        elif customer.industry in config.medium_risk_industries:
            reasons.append(
                Reason(
                    "industry",
                    config.points_medium_occupation,
                    f"medium-risk industry {customer.industry}",
                )
            )
        if not customer.beneficial_owners:
            reasons.append(
                Reason("ownership", config.points_no_beneficial_owner, "no beneficial owner known")
            )
    reasons.extend(_country_reasons(customer, config))
    risky_products = sorted(set(customer.products) & config.high_risk_products)
    if risky_products:
        reasons.append(
            Reason(
                "product", config.points_product, f"high-risk products {', '.join(risky_products)}"
            )
        )
    if customer.channels and set(customer.channels) <= config.non_face_to_face_channels:
        reasons.append(
            Reason(
                "channel",
                config.points_remote_only,
                f"non-face-to-face channels only ({', '.join(sorted(set(customer.channels)))})",
            )
        )
    cash = customer.cash_share_percent
    if cash is not None and cash >= config.cash_share_high_percent:
        reasons.append(Reason("cash", config.points_cash_high, f"cash-intensive ({cash}% in cash)"))
    elif cash is not None and cash >= config.cash_share_medium_percent:
        reasons.append(
            Reason("cash", config.points_cash_medium, f"uses cash a lot ({cash}% in cash)")
        )
    status = kyc_status(customer, today=today)
    if status.missing:
        forced = RiskLevel.MEDIUM if config.incomplete_is_at_least_medium else None
        names = ", ".join(m.field for m in status.missing)
        reasons.append(
            Reason("completeness", config.points_incomplete, f"KYC incomplete: {names}", forced)
        )
    if status.id_expiry.status is IdStatus.EXPIRED:
        reasons.append(Reason("id_expiry", config.points_id_expired, status.id_expiry.describe()))
    points = sum(reason.points for reason in reasons)
    level = RiskLevel.LOW
    if points >= config.high_at:
        level = RiskLevel.HIGH
    elif points >= config.medium_at:
        level = RiskLevel.MEDIUM
    for reason in reasons:
        if reason.forces is not None and _ORDER[reason.forces] > _ORDER[level]:
            level = reason.forces
    return Rating(customer.customer_id, level, points, tuple(reasons))


def load_rating_config(path: Path | None) -> RatingConfig:
    """Defaults overridden by a JSON object of field -> value (lists for sets)."""
    if path is None:
        return DEFAULT_RATING
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RatingConfigError("(file)", f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RatingConfigError("(file)", "expected a JSON object")
    known = {item.name: item for item in fields(RatingConfig)}
    changes: dict[str, object] = {}
    for key, value in raw.items():
        if key not in known:
            raise RatingConfigError(key, "unknown setting")
        default = getattr(DEFAULT_RATING, key)
        if isinstance(default, frozenset):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RatingConfigError(key, "expected a list of strings")
            changes[key] = frozenset(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise RatingConfigError(key, "expected true or false")
            changes[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                raise RatingConfigError(key, "expected a whole number")
            changes[key] = value
    config = replace(DEFAULT_RATING, **changes)  # type: ignore[arg-type]  # checked per field above
    config.validate()
    return config
