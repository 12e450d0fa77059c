"""Quality dashboards: who may see which branches, and the figures of one page.

A page's figures come from the per-day roll-up (``quality.rollup``: counts exact, percentiles to
within one 15-second bucket), today's partial day counted live and merged.

Raises ``Forbidden`` (no quality.view, or a branch outside a branch manager's assignment),
``NotFound`` (branch code) and ``RuleViolation`` (range reversed or longer than two years).
Quality officers and administrators see the whole bank; branch managers their own branches.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.core import i18n
from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.feedback.rules import Tally
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role
from branchdesk.quality import kpi, rollup
from branchdesk.quality.kpi import ALL, Figures, Level, Period
from branchdesk.quality.schemas import Breakdown, Dashboard, KpiRow

MAX_RANGE_DAYS = 731
QUALITY_BANK_WIDE = frozenset({Role.admin, Role.quality_officer})


@dataclasses.dataclass(frozen=True)
class Scope:
    branch_ids: list[uuid.UUID]
    branch: Branch | None
    label: str


def sees_whole_bank(actor: Principal) -> bool:
    return actor.role in QUALITY_BANK_WIDE


def branch_name(branch: Branch) -> str:
    return i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en)


def resolve_scope(db: Session, *, actor: Principal, branch_code: str | None) -> Scope:
    """The branches a quality page may read. Raises Forbidden, NotFound."""
    actor.require(Permission.quality_view)
    if branch_code:
        branch = catalog.get_branch_by_code(db, branch_code)
        if not sees_whole_bank(actor) and branch.id not in actor.branch_ids:
            raise Forbidden("this branch is outside your assignment")
        return Scope([branch.id], branch, f"{branch.code} · {branch_name(branch)}")
    if sees_whole_bank(actor):
        ids = sorted(db.execute(select(Branch.id)).scalars())
        return Scope(ids, None, i18n.gettext("Whole bank"))
    return Scope(sorted(actor.branch_ids), None, i18n.gettext("My branches"))


def check_range(from_on: date, to_on: date) -> None:
    if to_on < from_on:
        raise RuleViolation("the range ends before it starts", field="to")
    if (to_on - from_on).days >= MAX_RANGE_DAYS:
        raise RuleViolation("choose a range of at most two years", field="from")


def default_range(db: Session, now: datetime, days: int = 28) -> tuple[date, date]:
    """The last ``days`` business days, up to the newest day any branch has reached."""
    to_on = catalog.latest_business_day(db, now)
    return to_on - timedelta(days=days - 1), to_on


def visible_branches(db: Session, *, actor: Principal) -> list[tuple[str, str]]:
    actor.require(Permission.quality_view)
    # a quality officer reads every branch, though the role is not bank-wide elsewhere
    branches = catalog.active_branches(db, actor=None if sees_whole_bank(actor) else actor)
    return [(b.code, branch_name(b)) for b in branches]


def _labels(db: Session, level: Level, keys: list[str]) -> dict[str, str]:
    ids = [uuid.UUID(k) for k in keys if k and k != ALL and level not in (Level.region, Level.bank)]
    out: dict[str, str] = {}
    if not ids:
        return out
    if level == Level.branch:
        for b in db.execute(select(Branch).where(Branch.id.in_(ids))).scalars():
            out[str(b.id)] = f"{b.code} · {branch_name(b)}"
    elif level == Level.counter:
        rows = db.execute(
            select(Counter.id, Counter.code, Counter.name, Branch.code)
            .join(Branch, Branch.id == Counter.branch_id)
            .where(Counter.id.in_(ids))
        )
        for counter_id, code, name, branch_code in rows:
            out[str(counter_id)] = f"{branch_code} {code} · {name}"
    elif level == Level.teller:
        for user_id, name in db.execute(select(User.id, User.display_name).where(User.id.in_(ids))):
            out[str(user_id)] = name
    elif level == Level.service:
        for s in db.execute(select(ServiceType).where(ServiceType.id.in_(ids))).scalars():
            out[str(s.id)] = i18n.localized(s.name_zh_hant, s.name_zh_hans, s.name_en)
    return out


def _row(
    key: str, label: str, bucket: str, f: Figures, tally: Tally | None, *, complaints: bool
) -> KpiRow:
    return KpiRow(
        key=key, label=label, bucket=bucket, tickets=f.tickets, called=f.called,
        completed=f.completed, wait_p50_seconds=f.wait_p50_seconds,
        wait_p90_seconds=f.wait_p90_seconds, within_target=f.within_target,
        within_target_share=f.within_target_share,
        service_average_seconds=f.service_average_seconds,
        service_p50_seconds=f.service_p50_seconds, abandoned=f.abandoned,
        abandonment_rate=f.abandonment_rate, no_show=f.no_show, no_show_rate=f.no_show_rate,
        complaints=f.complaints if complaints else None,
        complaint_rate_per_1000=f.complaint_rate_per_1000 if complaints else None,
        sla_answered=f.answered if complaints else None,
        sla_in_time=f.answered_in_time if complaints else None,
        sla_compliance=f.sla_compliance if complaints else None,
        open_past_due=f.open_past_due if complaints else None,
        responses=None if tally is None else tally.responses,
        csat_average=None if tally is None else tally.csat_average,
        nps=None if tally is None else tally.nps,
    )  # fmt: skip


def _breakdown(
    db: Session,
    source: rollup.Source,
    level: Level,
    from_on: date,
    to_on: date,
    now: datetime,
) -> Breakdown:
    result = source.combined(level, Period.all, now)
    keys = sorted({k for k, _ in result.figures})
    labels = _labels(db, level, keys)
    codes: dict[str, str] = {}
    if level == Level.branch:
        ids = [uuid.UUID(k) for k in keys if k]
        query = select(Branch.id, Branch.code).where(Branch.id.in_(ids))
        codes = {str(i): c for i, c in db.execute(query)}
    complaints = level in (Level.region, Level.branch)
    rows = []
    for key in keys:
        row = _row(
            key, labels.get(key) or key or "—", ALL, result.figures.get((key, ALL), Figures()),
            result.tallies.get((key, ALL)), complaints=complaints,
        )  # fmt: skip
        if key in codes:
            row.drill = f"/quality?branch={codes[key]}&from={from_on}&to={to_on}"
        rows.append(row)
    rows.sort(key=lambda r: (r.label, r.key))
    return Breakdown(level=level, rows=rows)


def dashboard(
    db: Session,
    *,
    actor: Principal,
    branch_code: str | None,
    from_on: date,
    to_on: date,
    period: Period,
    now: datetime,
) -> Dashboard:
    """Bank (or the manager's branches) or one branch. Raises Forbidden, NotFound, RuleViolation."""
    scope = resolve_scope(db, actor=actor, branch_code=branch_code)
    check_range(from_on, to_on)
    level = Level.branch if scope.branch else Level.bank
    series_period = Period.day if period == Period.all else period
    source = rollup.Source(
        db, branch_ids=scope.branch_ids, from_on=from_on, to_on=to_on, grain=series_period
    )
    totals = source.combined(Level.bank, Period.all, now)
    total = _row(
        ALL, scope.label, ALL, totals.figures.get((ALL, ALL), Figures()),
        totals.tallies.get((ALL, ALL), Tally()), complaints=True,
    )  # fmt: skip
    by_bucket = source.combined(Level.bank, series_period, now)
    series = [
        _row(
            ALL,
            bucket,
            bucket,
            by_bucket.figures.get((ALL, bucket), Figures()),
            by_bucket.tallies.get((ALL, bucket)),
            complaints=True,
        )
        for bucket in kpi.buckets(from_on, to_on, series_period)
    ]
    note = None
    if level == Level.bank:
        regions = set(
            db.execute(select(Branch.region).where(Branch.id.in_(scope.branch_ids))).scalars()
        )
        levels = [Level.branch, Level.service]
        if regions - {""}:
            levels.insert(0, Level.region)
        else:
            note = i18n.gettext("Branches carry no region: the bank is the level above a branch.")
    else:
        levels = [Level.teller, Level.counter, Level.service]
    breakdowns = [_breakdown(db, source, lv, from_on, to_on, now) for lv in levels]
    return Dashboard(
        scope=scope.branch.code if scope.branch else "bank",
        scope_label=scope.label, from_on=from_on, to_on=to_on, period=series_period,
        percentile_bucket_seconds=rollup.BUCKET_SECONDS,
        regions_note=note, total=total, series=series, breakdowns=breakdowns,
    )  # fmt: skip
