"""One path that stores AML alerts, used by the pre-posting hook and by the sweeps.

A posting the pre-posting check holds (suspicious typologies) or reports (large cash,
cross-border) gets its alerts in the posting's own transaction: the ledger calls
``ledger.service.compliance.record_decision`` right after writing the posting, which calls
``record_hook_decision`` here. The periodic sweeps (``risk.cases.sweep``) store their findings
through the same ``store_alert``.

Deduplication is by posting and typology (table ``aml_alert_postings``, unique on both): a
finding whose postings already have an alert of its typology is not stored again; postings it
adds (the pattern went on) join that alert instead. So the hook's structuring alert on the last
deposit and the sweep's structuring finding over the whole series are one alert.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.customers.models import Customer
from branchdesk.ledger.service.compliance import ComplianceDecision, ProposedPosting, Verdict
from branchdesk.risk.aml import config
from branchdesk.risk.aml.scan import REPORT_ONLY
from branchdesk.risk.cases.models import AlertSource, AmlAlert, AmlAlertPosting
from branchdesk.risk.cases.service import attach_to_case, note_alert_grew

TYPOLOGIES = frozenset(config.TYPOLOGIES)
HOLD = "hold"  # a hold whose reason names no typology (another check than the AML rules)


@dataclass(frozen=True)
class NewAlert:
    fingerprint: str
    typology: str
    account_number: str
    customer_id: uuid.UUID | None
    branch_id: uuid.UUID | None
    posting_ids: Sequence[str]
    score_pct: int
    reason: str
    source: AlertSource
    is_report: bool
    first_booked_at: datetime


@dataclass(frozen=True)
class Stored:
    alert: AmlAlert
    is_new: bool  # False: the postings joined an alert of the same typology
    case_opened: bool


def split_reasons(text: str) -> list[tuple[str, str]]:
    """``"structuring: ...; fan_in: ..."`` (how the checks join their reasons) as
    (typology, reason) pairs; a part that names no typology belongs to the part before it."""
    pairs: list[tuple[str, str]] = []
    for part in text.split("; "):
        head = part.split(":", 1)[0].strip()
        if head in TYPOLOGIES:
            pairs.append((head, part.strip()))
        elif pairs:
            typology, reason = pairs[-1]
            pairs[-1] = (typology, f"{reason}; {part}")
        elif part.strip():
            pairs.append((HOLD, part.strip()))
    return pairs


def store_alert(db: Session, new: NewAlert, *, now: datetime) -> Stored | None:
    """Store ``new`` unless its postings already have an alert of its typology (then the postings
    not on that alert join it) or its fingerprint is on file; None when nothing new was stored.
    Suspicious alerts go to their customer's open case."""
    ids = list(dict.fromkeys(new.posting_ids))
    covered = _covered(db, ids, new.typology)
    if covered:
        alert = db.get(AmlAlert, next(covered[p] for p in ids if p in covered))
        assert alert is not None  # a foreign key
        fresh = [p for p in ids if p not in covered]
        if not fresh:
            return None
        _link(db, alert, fresh)
        alert.posting_ids = [*alert.posting_ids, *fresh]
        db.flush()
        note_alert_grew(db, alert=alert, added=len(fresh), now=now)
        return Stored(alert, is_new=False, case_opened=False)
    if db.execute(select(AmlAlert.id).where(AmlAlert.fingerprint == new.fingerprint)).first():
        return None
    alert = AmlAlert(
        fingerprint=new.fingerprint,
        typology=new.typology,
        account_number=new.account_number,
        customer_id=new.customer_id,
        branch_id=new.branch_id,
        posting_ids=ids,
        score_pct=new.score_pct,
        reason=new.reason[:4000],
        source=new.source,
        is_report=new.is_report,
        first_booked_at=new.first_booked_at,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(alert)
            db.flush()
            _link(db, alert, ids)
    except IntegrityError:
        # a concurrent writer stored this posting and typology meanwhile: it is on file
        return None
    opened = not alert.is_report and attach_to_case(db, alert=alert, now=now)
    return Stored(alert, is_new=True, case_opened=opened)


def _covered(db: Session, ids: Sequence[str], typology: str) -> dict[str, uuid.UUID]:
    """posting id -> the alert of ``typology`` that covers it."""
    keys = [uuid.UUID(p) for p in ids]
    if not keys:
        return {}
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(keys), 500):
        rows = db.execute(
            select(AmlAlertPosting.posting_id, AmlAlertPosting.alert_id).where(
                AmlAlertPosting.typology == typology,
                AmlAlertPosting.posting_id.in_(keys[start : start + 500]),
            )
        ).all()
        found.update({str(posting): alert for posting, alert in rows})
    return found


def _link(db: Session, alert: AmlAlert, ids: Iterable[str]) -> None:
    for posting in ids:
        db.add(
            AmlAlertPosting(
                alert_id=alert.id, posting_id=uuid.UUID(posting), typology=alert.typology
            )
        )
    db.flush()


def _customer_leg(posting: ProposedPosting) -> tuple[str, uuid.UUID | None]:
    """The paying customer's account (a debit leg) first, else the receiving one."""
    legs = sorted(
        (leg for leg in posting.legs if leg.customer_id is not None),
        key=lambda leg: leg.amount_minor > 0,
    )
    if not legs:
        return "", None
    return legs[0].account_number, legs[0].customer_id


def record_hook_decision(
    db: Session, *, posting: ProposedPosting, decision: ComplianceDecision
) -> list[Stored]:
    """The alerts of one posting the pre-posting check held or reported, written with it: one
    per suspicious typology of the hold (a case), one per report (the large-value report)."""
    account, customer = _customer_leg(posting)
    found: list[tuple[str, str, bool]] = []
    if decision.verdict is Verdict.hold:
        found.extend((t, r, False) for t, r in split_reasons(decision.reason))
    for report in decision.reports:
        for typology, reason in split_reasons(report):
            found.append((typology, reason, typology in REPORT_ONLY))
    stored: list[Stored] = []
    for typology, reason, is_report in found:
        result = store_alert(
            db,
            NewAlert(
                fingerprint=f"posting:{posting.posting_id}:{typology}",
                typology=typology,
                account_number=account,
                customer_id=customer,
                branch_id=posting.branch_id,
                posting_ids=[str(posting.posting_id)],
                score_pct=100,
                reason=reason,
                source=AlertSource.hook,
                is_report=is_report,
                first_booked_at=posting.booked_at,
            ),
            now=posting.booked_at,
        )
        if result is not None:
            stored.append(result)
    rerate(db, {s.alert.customer_id for s in stored if s.is_new and not s.alert.is_report},
           now=posting.booked_at)  # fmt: skip
    return stored


def rerate(db: Session, customer_ids: set[uuid.UUID | None], *, now: datetime) -> None:
    """Alerts on file are a rating rule: refresh the KYC profiles of the customers concerned."""
    from branchdesk.risk.cases.kyc import refresh_profile  # kyc stores alerts through here

    for customer_id in sorted(c for c in customer_ids if c is not None):
        customer = db.get(Customer, customer_id)
        if customer is not None:
            refresh_profile(db, customer=customer, now=now)
