"""Alerts from the ledger: the typology rules over history, and held postings without alerts.

The pre-posting hook stores the alerts of the postings it holds or reports when it writes them
(``risk.cases.alerts``). ``sweep_ledger`` runs the same detectors over the ledger's posted
entries (``risk.aml.scan``) for the patterns only history shows; it stores through the same
``store_alert``, so a finding already on file (same fingerprint, or a posting that has an alert
of that typology) is not stored twice. ``sweep_held_postings`` catches up on held postings that
have no alert (held before the hook stored them, or by another check), from a watermark.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting
from branchdesk.ledger.service.compliance import (
    CHANNELS,
    MOVEMENT_COLUMNS,
    movement_row,
    movements,
)
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Posting as AmlPosting
from branchdesk.risk.aml.io import transactions_from_postings
from branchdesk.risk.aml.scan import REPORT_ONLY, Alert, scan_transactions
from branchdesk.risk.cases.alerts import NewAlert, Stored, rerate, split_reasons, store_alert
from branchdesk.risk.cases.models import AlertSource, AmlAlert, RiskWatermark
from branchdesk.risk.cases.schemas import SweepRead

HISTORY_DAYS = 130  # the longest rule window (dormancy 120 days) and a margin
HELD_WATERMARK = "held_postings"


@dataclass(frozen=True)
class SweepResult:
    scanned: int  # ledger movements (sweep) or held postings (hook) looked at
    alerts: int  # new alerts stored
    cases_opened: int


def ledger_movements(
    db: Session, *, since: datetime | None, until: datetime | None = None
) -> list[AmlPosting]:
    """Posted customer movements as rows of the rules engine, oldest first.

    The ledger's AML check reads its history through the same conversion
    (``compliance.movement_row``): one row per customer account leg,
    ``txn_id = <posting id>:<account number>``, the other customer account for transfers and
    the beneficiary for remittances."""
    statement = (
        movements(*MOVEMENT_COLUMNS)
        .where(
            Account.type.in_(sorted(CUSTOMER_TYPES)),
            Account.customer_id.is_not(None),
            Posting.kind.in_(sorted(CHANNELS)),
        )
        .order_by(Entry.booked_at, Entry.seq, Entry.posting_id, Account.number)
    )
    if since is not None:
        statement = statement.where(Entry.booked_at >= since)
    if until is not None:
        statement = statement.where(Entry.booked_at < until)
    rows = [movement_row(row) for row in db.execute(statement).all()]
    return [row for row in rows if row is not None]


def scan_ledger(db: Session, *, config: RuleConfig, since: datetime | None) -> list[Alert]:
    """The rules over the ledger; with ``since``, the history starts HISTORY_DAYS earlier and only
    findings with a movement at or after ``since`` are kept."""
    start = since - timedelta(days=HISTORY_DAYS) if since is not None else None
    movements = ledger_movements(db, since=start)
    if not movements:
        return []
    alerts = scan_transactions(transactions_from_postings(movements, config), config)
    if since is None:
        return alerts
    late = {m.txn_id for m in movements if m.booked_at >= since}
    return [a for a in alerts if any(t in late for t in a.txn_ids)]


def _posting_ids(txn_ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for txn in txn_ids:
        seen.setdefault(txn.split(":", 1)[0], None)
    return list(seen)


def _accounts(db: Session, numbers: set[str]) -> dict[str, Account]:
    if not numbers:
        return {}
    found = db.execute(select(Account).where(Account.number.in_(sorted(numbers)))).scalars()
    return {a.number: a for a in found}


def _existing(db: Session, fingerprints: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        found.update(
            db.execute(select(AmlAlert.fingerprint).where(AmlAlert.fingerprint.in_(chunk)))
            .scalars()
            .all()
        )
    return found


def sweep_ledger(
    db: Session, *, config: RuleConfig, since: datetime | None, now: datetime
) -> SweepResult:
    """Store the new alerts of the rules over the ledger (idempotent, and one alert per posting
    and typology with the hook's: ``alerts.store_alert``); suspicious ones go to their
    customer's open case."""
    alerts = scan_ledger(db, config=config, since=since)
    existing = _existing(db, [a.alert_id for a in alerts])
    fresh = [a for a in alerts if a.alert_id not in existing]
    accounts = _accounts(db, {a.account_id for a in fresh})
    booked: dict[str, datetime | None] = {}
    if fresh:
        ids = sorted({uuid.UUID(p) for a in fresh for p in _posting_ids(a.txn_ids)})
        for start in range(0, len(ids), 500):
            for pid, at in db.execute(
                select(Posting.id, Posting.posted_at).where(
                    Posting.id.in_(ids[start : start + 500])
                )
            ).all():
                booked[str(pid)] = at
    stored: list[Stored] = []
    for alert in fresh:
        account = accounts.get(alert.account_id)
        postings = _posting_ids(alert.txn_ids)
        result = store_alert(
            db,
            NewAlert(
                fingerprint=alert.alert_id,
                typology=alert.typology,
                account_number=alert.account_id,
                customer_id=account.customer_id if account else None,
                branch_id=account.branch_id if account else None,
                posting_ids=postings,
                score_pct=round(alert.score * 100),
                reason=alert.reason,
                source=AlertSource.sweep,
                is_report=alert.typology in REPORT_ONLY,
                first_booked_at=min(
                    (t for p in postings if (t := booked.get(p)) is not None), default=now
                ),
            ),
            now=now,
        )
        if result is not None and result.is_new:
            stored.append(result)
    rerate(db, {s.alert.customer_id for s in stored if not s.alert.is_report}, now=now)
    return SweepResult(
        scanned=len(alerts),
        alerts=len(stored),
        cases_opened=sum(s.case_opened for s in stored),
    )


def sweep_held_postings(db: Session, *, now: datetime) -> SweepResult:
    """Alerts for postings held for review since the watermark (then moved forward) that have
    none yet: the hook stores them with the posting, so this only catches up on postings held
    before that or by another check."""
    mark = db.get(RiskWatermark, HELD_WATERMARK, with_for_update=True)
    statement = (
        select(Posting).where(Posting.hold_reason != "").order_by(Posting.created_at, Posting.id)
    )
    if mark is not None:
        statement = statement.where(Posting.created_at >= mark.value)
    held = list(db.execute(statement).scalars())
    account_ids = {uuid.UUID(str(leg["account_id"])) for p in held for leg in p.legs}
    accounts = (
        {
            a.id: a
            for a in db.execute(
                select(Account).where(Account.id.in_(sorted(account_ids)))
            ).scalars()
        }
        if account_ids
        else {}
    )
    stored: list[Stored] = []
    for posting in held:
        legs = [accounts.get(uuid.UUID(str(leg["account_id"]))) for leg in posting.legs]
        customer_legs = [a for a in legs if a is not None and a.customer_id is not None]
        # the paying customer first (a debit leg), else the receiving one
        debit_first = sorted(
            zip(posting.legs, legs, strict=True),
            key=lambda pair: int(pair[0]["amount_minor"]) > 0,
        )
        account = next(
            (a for _, a in debit_first if a is not None and a.customer_id is not None),
            customer_legs[0] if customer_legs else None,
        )
        for typology, reason in split_reasons(posting.hold_reason):
            result = store_alert(
                db,
                NewAlert(
                    fingerprint=f"posting:{posting.id}:{typology}",
                    typology=typology,
                    account_number=account.number if account else "",
                    customer_id=account.customer_id if account else None,
                    branch_id=posting.branch_id,
                    posting_ids=[str(posting.id)],
                    score_pct=100,
                    reason=reason,
                    source=AlertSource.hook,
                    is_report=False,
                    first_booked_at=posting.created_at,
                ),
                now=now,
            )
            if result is not None and result.is_new:
                stored.append(result)
    rerate(db, {s.alert.customer_id for s in stored}, now=now)
    if held:
        latest = held[-1].created_at
        if mark is None:
            db.add(RiskWatermark(name=HELD_WATERMARK, value=latest))
        else:
            mark.value = latest
        db.flush()
    return SweepResult(
        scanned=len(held), alerts=len(stored), cases_opened=sum(s.case_opened for s in stored)
    )


def run_sweep(db: Session, *, actor: Principal, now: datetime, config: RuleConfig) -> SweepRead:
    """A compliance officer's "run monitoring now": held postings, and the rules over the last
    two days (with their history). Audited. Raises Forbidden."""
    actor.require(Permission.aml_manage)
    held = sweep_held_postings(db, now=now)
    since = datetime.combine(now.date() - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    swept = sweep_ledger(db, config=config, since=since, now=now)
    append_audit(
        db, action="aml.sweep", object_type="aml_alert", now=now, actor=actor,
        detail={"new_alerts": held.alerts + swept.alerts, "since": since.isoformat()},
    )  # fmt: skip
    return SweepRead(
        held_postings_seen=held.scanned,
        ledger_findings=swept.scanned,
        new_alerts=held.alerts + swept.alerts,
        cases_opened=held.cases_opened + swept.cases_opened,
    )
