"""The label sets: complaint and comment categories, sentiments, languages."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "waiting_time",
    "staff_attitude",
    "fees_charges",
    "product_mis_selling",
    "account_access",
    "digital_channels",
    "transaction_error",
    "privacy_data",
    "environment_facilities",
    "other",
)
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
LANGUAGES: tuple[str, ...] = ("zh-Hant", "zh-Hans", "en")
FIELDS: dict[str, tuple[str, ...]] = {"category": CATEGORIES, "sentiment": SENTIMENTS}
