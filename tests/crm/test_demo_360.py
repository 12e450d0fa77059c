"""The demo bank's customer 360 after `branchdesk seed --profile demo` (which runs the nightly
analytics once): a branch manager sees segment, loyalty tier, points and suitable
recommendations with their reasons, in Traditional Chinese and in English.

The demo follows the calendar (accounts, points and assessments up to today), so the customer is
chosen by a rule (the Taipei customer with the most points among those with recommendations) and
the expected values come from the stored rows; the wording is written out here in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from branchdesk.analytics.models import CustomerRecommendation, CustomerSegment
from branchdesk.app import create_app
from branchdesk.catalog.models import Branch
from branchdesk.core.config import Settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.loyalty.models import PointsAccount
from branchdesk.migrations import upgrade
from branchdesk.seed import seed_database
from tests.conftest import TEST_SECRET
from tests.factories import bearer, browser_session

ASSET_TIERS = {
    "zh-Hant": {"mass": "大眾客戶", "affluent": "富裕客戶", "private": "私人銀行客戶"},
    "en": {"mass": "Mass", "affluent": "Affluent", "private": "Private"},
}
TIERS = {
    "zh-Hant": {"basic": "普通", "silver": "銀卡", "gold": "金卡", "platinum": "白金"},
    "en": {"basic": "Basic", "silver": "Silver", "gold": "Gold", "platinum": "Platinum"},
}
PRODUCTS = {
    "zh-Hant": {
        "CURRENT": "活期存款帳戶", "SAVINGS": "儲蓄帳戶", "TIME_DEPOSIT": "定期存款",
        "CREDIT_CARD": "信用卡", "MONEY_MARKET": "貨幣市場基金", "BOND_FUND": "債券基金",
        "BALANCED_FUND": "平衡型基金", "EQUITY_FUND": "股票型基金",
    },
    "en": {
        "CURRENT": "Current account", "SAVINGS": "Savings account",
        "TIME_DEPOSIT": "Time deposit", "CREDIT_CARD": "Credit card",
        "MONEY_MARKET": "Money market fund", "BOND_FUND": "Bond fund",
        "BALANCED_FUND": "Balanced fund", "EQUITY_FUND": "Equity fund",
    },
}  # fmt: skip
AGES = {
    "zh-Hant": ("30歲以下", "30至39歲", "40至49歲", "50至59歲", "60歲及以上"),
    "en": ("under 30", "30-39", "40-49", "50-59", "60 and over"),
}
ASSETS = {
    "zh-Hant": ("10萬以下", "10萬至100萬", "100萬至500萬", "500萬及以上"),
    "en": ("under 100k", "100k-1M", "1M-5M", "5M and over"),
}


def _amount(value: float, locale: str) -> str:
    if locale == "zh-Hant":
        return f"{value / 10_000:g}萬"
    return f"{value / 1_000_000:g}M" if value >= 1_000_000 else f"{value / 1_000:g}k"


def _expected_reason(parts: list[dict[str, Any]], locale: str) -> str:
    """The reason as a reader should see it (written independently of the wording code)."""
    names = PRODUCTS[locale]
    zh = locale == "zh-Hant"
    pieces = []
    for p in parts:
        code = p["code"]
        if code == "segment_lift":
            age, assets = AGES[locale][p["age_band"]], ASSETS[locale][p["asset_band"]]
            product, lift = names[p["product_code"]], f"{p['lift']:.1f}"
            pieces.append(
                f"{age}、資產{assets}的客戶開立{product}的比例是平均的{lift}倍"
                if zh
                else f"customers aged {age} with assets {assets} open {product} {lift}x as"
                " often as average"
            )
        elif code == "after_holding":
            held = names[p["held_code"]]
            pieces.append(
                f"持有{held}的客戶常開立此產品，而您持有{held}"
                if zh
                else f"often opened by holders of {held}, which you hold"
            )
        elif code == "popular":
            product = names[p["product_code"]]
            pieces.append(
                f"{product}是近90天開立最多的產品之一"
                if zh
                else f"{product} is one of the most opened products in the last 90 days"
            )
        elif code == "fits":
            product = names[p["product_code"]]
            pieces.append(
                f"{product}符合您的狀況與現有產品"
                if zh
                else f"{product} fits your profile and current holdings"
            )
        elif code == "risk":
            pieces.append(
                f"風險等級R{p['risk']}在您的C{p['tolerance']}風險承受度之內"
                if zh
                else f"risk R{p['risk']} within your C{p['tolerance']} tolerance"
            )
        else:
            assert code == "min_assets"
            amount = _amount(p["amount"], locale)
            pieces.append(
                f"您的資產達到{amount}的最低門檻"
                if zh
                else f"your assets meet the {amount} minimum"
            )
    text = ("；" if zh else "; ").join(pieces)
    return text[:1].upper() + text[1:]


@dataclass
class Demo:
    client: TestClient
    session_cookie: str
    api_headers: dict[str, str]
    customer_number: str
    asset_tier: str
    loyalty_tier: str
    points: int
    recommendations: list[tuple[int, str, list[dict[str, Any]]]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = Path(tmp_path_factory.mktemp("demo-360"))
    url = f"sqlite:///{folder}/demo.db"
    upgrade(url)
    database = Database(url)
    seed_database(database, profile="demo", seed=7, history_days=0)
    with database.unit_of_work() as db:
        manager = db.execute(select(User).where(User.username == "manager.tpe")).scalar_one()
        taipei = db.execute(select(Branch.id).where(Branch.code == "TPE01")).scalar_one()
        with_recommendations = select(CustomerRecommendation.customer_id).distinct()
        customer_id, number, tier, points = db.execute(
            select(Customer.id, Customer.customer_number, PointsAccount.tier, PointsAccount.balance)
            .join(PointsAccount, PointsAccount.customer_id == Customer.id)
            .where(Customer.home_branch_id == taipei, Customer.id.in_(with_recommendations))
            .order_by(PointsAccount.balance.desc(), Customer.customer_number)
            .limit(1)
        ).one()
        asset_tier = db.execute(
            select(CustomerSegment.segment).where(
                CustomerSegment.customer_id == customer_id,
                CustomerSegment.kind == "asset_tier",
                CustomerSegment.valid_to.is_(None),
            )
        ).scalar_one()
        recommendations = [
            (r.rank, r.product_code, list(r.reason_parts or []))
            for r in db.execute(
                select(CustomerRecommendation)
                .where(CustomerRecommendation.customer_id == customer_id)
                .order_by(CustomerRecommendation.rank)
            ).scalars()
        ]
        cookie, _csrf = browser_session(Signer(TEST_SECRET), manager)
        headers = bearer(Signer(TEST_SECRET), manager)
    settings = Settings(
        database_url=url, secret_key=TEST_SECRET, data_dir=folder, environment="test"
    )
    with TestClient(create_app(settings, database), base_url="http://testserver") as client:
        yield Demo(
            client, cookie, headers, number, asset_tier, str(tier), points, recommendations
        )  # fmt: skip
    database.dispose()


def test_demo_seed_leaves_suitable_recommendations_with_reason_codes(demo: Demo) -> None:
    assert demo.recommendations, "the chosen customer has recommendations"
    assert [rank for rank, _code, _parts in demo.recommendations] == list(
        range(1, len(demo.recommendations) + 1)
    )
    for _rank, code, parts in demo.recommendations:
        assert code in PRODUCTS["en"]
        assert parts
        assert parts[-1]["code"] in ("risk", "min_assets")
        risk = next(p for p in parts if p["code"] == "risk")
        assert risk["risk"] <= risk["tolerance"]  # suitable: never above the tolerance


@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_demo_customer_360_in_the_viewers_language(demo: Demo, locale: str) -> None:
    client = demo.client
    client.cookies.clear()
    client.cookies.set("bd_session", demo.session_cookie)
    client.cookies.set("bd_lang", locale)  # the language switch (else the user's own language)
    accept = {"zh-Hant": "zh-TW,zh;q=0.9", "en": "en-US,en;q=0.8"}[locale]
    page = client.get(f"/customers/{demo.customer_number}/360", headers={"Accept-Language": accept})
    assert page.status_code == 200, page.text[:500]
    text = page.text
    asset_label = ASSET_TIERS[locale][demo.asset_tier]
    assert f'<strong data-segment="{demo.asset_tier}">{asset_label}</strong>' in text, text[
        text.find("segments") :
    ][:1500]
    assert f'<strong id="loyalty-tier">{TIERS[locale][demo.loyalty_tier]}</strong>' in text
    assert f'<strong id="loyalty-balance">{demo.points}</strong>' in text
    for _rank, code, parts in demo.recommendations:
        expected = _expected_reason(parts, locale)
        item = (
            f'<li data-product="{code}"><strong>{PRODUCTS[locale][code]}</strong>: {expected}</li>'
        )
        assert item in text
    short = client.get(
        f"/customers/{demo.customer_number}/360?view=short", headers={"Accept-Language": accept}
    )
    assert short.status_code == 200
    _rank, code, parts = demo.recommendations[0]
    first = f'<span title="{_expected_reason(parts, locale)}" data-product="{code}">'
    assert first + f"{PRODUCTS[locale][code]}</span>" in short.text
    client.cookies.clear()
    api = client.get(
        f"/api/v1/customers/{demo.customer_number}/360",
        headers={**demo.api_headers, "Accept-Language": accept},
    )
    assert api.status_code == 200
    body = api.json()
    assert (body["loyalty_tier"], body["loyalty_points"]) == (demo.loyalty_tier, demo.points)
    assert {s["kind"]: s["segment"] for s in body["segments"]}["asset_tier"] == demo.asset_tier
    labels = {s["kind"]: s["label"] for s in body["segments"]}
    assert labels["asset_tier"] == ASSET_TIERS[locale][demo.asset_tier]
    if locale == "zh-Hant":  # behaviour clusters are named trait by trait, in words
        assert re.search("[A-Za-z]", labels["cluster"]) is None, labels["cluster"]
    assert {s["kind"]: s["segment"] for s in body["segments"]}["loyalty_tier"] == (
        demo.loyalty_tier
    )
    assert [
        (r["rank"], r["product_code"], r["product_name"], r["reason"])
        for r in body["recommendations"]
    ] == [
        (rank, code, PRODUCTS[locale][code], _expected_reason(parts, locale))
        for rank, code, parts in demo.recommendations
    ]
    assert [
        [{"code": p["code"], **p["parameters"]} for p in r["reason_parts"]]
        for r in body["recommendations"]
    ] == [parts for _rank, _code, parts in demo.recommendations]
