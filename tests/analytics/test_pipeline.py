"""The nightly pipeline on DuckDB against a constructed bank (tests/analytics/bank.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics import python_steps
from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.models import (
    AnalyticsRun,
    CareTask,
    CustomerFeature,
    CustomerRecommendation,
    CustomerSegment,
)
from branchdesk.analytics.pipeline import run_pipeline
from branchdesk.core.security import Signer
from branchdesk.loyalty.config import Programme, Tier
from branchdesk.loyalty.models import PointsEntry
from tests.analytics.bank import AS_OF, book, build_bank, build_rfm_ladder
from tests.factories import NOW


def _run(db: Session, branch_id: object, as_of: date = AS_OF):  # type: ignore[no-untyped-def]
    return run_pipeline(db, engine_name="duckdb", as_of=as_of, now=NOW, branch_ids=[branch_id])


def _segments(db: Session, customer_id: object, *, open_only: bool = True) -> dict[str, str]:
    stmt = select(CustomerSegment).where(CustomerSegment.customer_id == customer_id)
    if open_only:
        stmt = stmt.where(CustomerSegment.valid_to.is_(None))
    return {s.kind: s.segment for s in db.execute(stmt).scalars()}


def test_features_segments_points_and_tasks_are_exact(db: Session, signer: Signer) -> None:
    bank = build_bank(db, signer)
    summary = _run(db, bank.branch.id)
    assert summary.customers == 3
    features = {
        f.customer_id: f
        for f in db.execute(select(CustomerFeature).where(CustomerFeature.as_of == AS_OF)).scalars()
    }
    rich, hk, new = features[bank.rich.id], features[bank.hk.id], features[bank.new.id]
    assert (rich.assets_minor, rich.assets_30d_ago_minor) == (66_000_000, 70_000_000)
    assert (rich.recency_days, rich.frequency, rich.monetary_minor) == (1, 3, 66_000_000)
    assert (rich.product_count, rich.products, rich.tenure_months) == (2, "CURRENT SAVINGS", 25)
    assert (rich.risk_tolerance, rich.is_risk_tolerance_default) == ("C1", True)
    assert (hk.assets_minor, hk.recency_days, hk.frequency, hk.monetary_minor) == (
        9_200_000, 243, 1, 9_200_000,
    )  # fmt: skip
    assert (hk.remote_visits, hk.counter_visits, hk.tenure_months) == (1, 0, 9)
    assert (new.assets_minor, new.recency_days, new.frequency, new.tenure_months) == (0, None, 0, 1)
    assert _segments(db, bank.rich.id)["asset_tier"] == "affluent"
    assert _segments(db, bank.hk.id)["asset_tier"] == "mass"
    assert _segments(db, bank.new.id)["rfm"] == "no_transactions"
    tiers = {c: _segments(db, c.id)["loyalty_tier"] for c in (bank.rich, bank.hk, bank.new)}
    assert list(tiers.values()) == ["gold", "silver", "basic"]
    points = dict(
        db.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.points))
            .where(PointsEntry.customer_id.in_([bank.rich.id, bank.hk.id, bank.new.id]))
            .group_by(PointsEntry.customer_id)
        ).all()
    )
    assert points == {bank.rich.id: 710, bank.hk.id: 112}
    tasks = sorted(
        (t.customer_id == bank.hk.id, t.rule_code, t.due_on, t.branch_id == bank.branch.id)
        for t in db.execute(select(CareTask).where(CareTask.run_id == summary.run_id)).scalars()
    )
    assert tasks == [
        (False, "birthday", date(2026, 3, 5), True),
        (False, "complaint_closed", date(2026, 3, 8), True),
        (False, "id_expiring", date(2026, 3, 8), True),
        (True, "detractor", date(2026, 3, 3), True),
        (True, "dormant", date(2026, 3, 15), True),
    ]
    recommended = db.execute(
        select(CustomerRecommendation).where(CustomerRecommendation.as_of == AS_OF)
    ).scalars()
    by_customer: dict[object, set[str]] = {}
    for r in recommended:
        by_customer.setdefault(r.customer_id, set()).add(r.product_code)
        assert r.reason
    # only the consenting customer; nothing held, nothing above R1 without an assessment
    assert by_customer == {bank.rich.id: {"TIME_DEPOSIT", "CREDIT_CARD", "MONEY_MARKET"}}


def test_rfm_quintiles_and_named_groups(db: Session, signer: Signer) -> None:
    branch, people = build_rfm_ladder(db, signer)
    _run(db, branch.id)
    scores = [
        db.execute(
            select(CustomerFeature.r_score, CustomerFeature.f_score, CustomerFeature.m_score).where(
                CustomerFeature.customer_id == p.id
            )
        ).one()
        for p in people
    ]
    assert [tuple(s) for s in scores] == [(i, i, i) for i in range(1, 6)]
    groups = [_segments(db, p.id)["rfm"] for p in people]
    assert groups == ["hibernating", "hibernating", "loyal", "champions", "champions"]


def test_second_run_same_day_replaces_and_history_is_kept(db: Session, signer: Signer) -> None:
    bank = build_bank(db, signer)
    first = _run(db, bank.branch.id)
    counts = (
        db.scalar(select(func.count()).select_from(CustomerSegment).where(
            CustomerSegment.customer_id == bank.hk.id)),
        db.scalar(select(func.count()).select_from(PointsEntry).where(
            PointsEntry.customer_id == bank.hk.id)),
        db.scalar(select(func.count()).select_from(CareTask).where(
            CareTask.customer_id == bank.hk.id)),
    )  # fmt: skip
    again = _run(db, bank.branch.id)
    assert (again.points_added, again.tasks_added) == (0, 0)
    assert again.run_id != first.run_id
    assert (
        db.scalar(
            select(func.count())
            .select_from(CustomerFeature)
            .where(CustomerFeature.customer_id.in_([bank.rich.id, bank.hk.id, bank.new.id]))
        )
        == 3
    )
    assert counts == (4, 2, 2)
    assert db.scalar(select(func.count()).select_from(CustomerSegment).where(
        CustomerSegment.customer_id == bank.hk.id)) == 4  # fmt: skip
    # a week later hk deposits 700,000.00 HKD: affluent from that day, mass until then
    later = date(2026, 3, 8)
    book(db, bank.hk_savings, 70_000_000, date(2026, 3, 7))
    _run(db, bank.branch.id, later)
    _run(db, bank.branch.id, later)  # the same day again changes nothing
    history = sorted(
        (s.segment, s.valid_from, s.valid_to)
        for s in db.execute(
            select(CustomerSegment).where(
                CustomerSegment.customer_id == bank.hk.id, CustomerSegment.kind == "asset_tier"
            )
        ).scalars()
    )
    assert history == [("affluent", later, None), ("mass", AS_OF, later)]
    assert _segments(db, bank.hk.id)["asset_tier"] == "affluent"
    runs = db.scalar(
        select(func.count())
        .select_from(AnalyticsRun)
        .where(AnalyticsRun.id.in_([first.run_id, again.run_id]))
    )
    assert runs == 2


def test_clusters_are_deterministic_and_named_from_their_centres() -> None:
    def person(n: int, assets: int, frequency: int) -> dict[str, object]:
        return {
            "customer_id": f"c{n:02d}", "assets_minor": assets, "frequency": frequency,
            "monetary_minor": frequency * 100_000, "recency_days": 5 if frequency else None,
            "product_count": 1, "counter_visits": 0, "remote_visits": 0, "portal_visits": 0,
            "tenure_months": 12,
        }  # fmt: skip

    people = [person(n, 100_000_000 + n, 0) for n in range(5)]
    people += [person(n, 1_000, 40 + n) for n in range(5, 10)]
    config = PipelineConfig(clusters=2)
    first = python_steps.cluster(people, config)
    second = python_steps.cluster(list(people), config)
    assert first == second
    rich = {first.names[f"c{n:02d}"] for n in range(5)}
    busy = {first.names[f"c{n:02d}"] for n in range(5, 10)}
    assert len(rich) == len(busy) == 1
    assert rich != busy
    assert "high assets" in next(iter(rich))
    assert "low assets" in next(iter(busy))
    assert sorted(p["size"] for p in first.profiles) == [5, 5]


def test_a_vip_tier_sets_the_queue_service_tier_and_leaving_it_resets(
    db: Session, signer: Signer
) -> None:
    bank = build_bank(db, signer)
    low = Programme(tiers=(Tier("platinum", 600, (), True), Tier("gold", 500), Tier("basic", 0)))
    run_pipeline(db, engine_name="duckdb", as_of=AS_OF, now=NOW, programme=low,
                 branch_ids=[bank.branch.id])  # fmt: skip
    db.refresh(bank.rich)
    db.refresh(bank.hk)
    assert (bank.rich.service_tier, bank.hk.service_tier) == ("vip", "standard")
    high = Programme(
        tiers=(Tier("platinum", 10_000, (), True), Tier("gold", 500), Tier("basic", 0))
    )
    run_pipeline(db, engine_name="duckdb", as_of=date(2026, 3, 8), now=NOW, programme=high,
                 branch_ids=[bank.branch.id])  # fmt: skip
    db.refresh(bank.rich)
    assert bank.rich.service_tier == "standard"
    assert _segments(db, bank.rich.id)["loyalty_tier"] == "gold"


def test_care_rules_balance_drop_and_leap_day_birthday() -> None:
    def person(cid: str, **values: object) -> dict[str, object]:
        base: dict[str, object] = {
            "customer_id": cid, "home_branch_id": "b1", "birth_on": None, "id_expires_on": None,
            "assets_month_ago_minor": 0, "assets_minor": 0, "recency_days": 3, "product_count": 1,
        }  # fmt: skip
        return base | values

    people = [
        person("fell", assets_month_ago_minor=20_000_000, assets_minor=10_000_000),
        person("small", assets_month_ago_minor=6_000_000, assets_minor=2_000_000),
        person("leap", birth_on=date(2000, 2, 29)),
    ]
    tasks = python_steps.care_tasks(people, [], PipelineConfig(), date(2027, 2, 25))
    assert [(t["dedupe_key"], t["due_on"]) for t in tasks] == [
        ("balance_drop:fell:2027W08", date(2027, 2, 28)),
        ("birthday:leap:2027", date(2027, 2, 28)),
    ]
