"""The watch list: the daily job scores every active loan (bucket + the early-warning signals of
``signals.signals_of``: DPD, missed payment, balance collapse, salary stopped, new debts
elsewhere, many applications, collateral drop) and
opens an alert in the risk officers' queue at ``WATCH_THRESHOLD``; officers record actions (call,
visit, restructure) with their outcomes and close the alert. Every action is audited."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.loans.models import AlertStatus, Loan, LoanAlert, LoanStatus
from branchdesk.loans.rules import WATCH_THRESHOLD, Bucket, watch_reasons, watch_score
from branchdesk.loans.schemas import LoanAlertRead
from branchdesk.loans.service.signals import signals_of


class AlertAction(StrEnum):
    call = "call"
    visit = "visit"
    restructure = "restructure"


class AlertNotFound(NotFound):
    code = "loan_alert_not_found"


def update_watch_list(
    db: Session, *, as_of: date, now: datetime, branch_ids: Collection[uuid.UUID] | None = None
) -> int:
    """Score the active loans; open or refresh alerts. Returns how many alerts were opened."""
    query = select(Loan).where(Loan.status == LoanStatus.active).order_by(Loan.id)
    if branch_ids is not None:
        query = query.where(Loan.branch_id.in_(list(branch_ids)))
    opened = 0
    for loan in db.execute(query).scalars():
        signals = signals_of(db, loan, as_of=as_of)
        score = watch_score(Bucket(loan.bucket), signals)
        reasons = watch_reasons(Bucket(loan.bucket), signals)
        alert = db.execute(
            select(LoanAlert).where(
                LoanAlert.loan_id == loan.id, LoanAlert.status == AlertStatus.open
            )
        ).scalar_one_or_none()
        if alert is not None:
            alert.score, alert.reasons, alert.updated_at = score, reasons, now
            continue
        if score < WATCH_THRESHOLD:
            continue
        alert = LoanAlert(
            id=new_id(), loan_id=loan.id, branch_id=loan.branch_id, status=AlertStatus.open,
            score=score, reasons=reasons, actions=[], opened_on=as_of, created_at=now,
            updated_at=now, closed_at=None,
        )  # fmt: skip
        db.add(alert)
        db.flush()
        opened += 1
        record_event(
            db, type="loans.alert_opened", aggregate_type="loan", aggregate_id=loan.id,
            branch_id=loan.branch_id, now=now,
            payload={"number": loan.number, "score": score, "reasons": reasons},
        )  # fmt: skip
    db.flush()
    return opened


def list_alerts(db: Session, *, actor: Principal, status: str = "open") -> list[LoanAlertRead]:
    """Highest score first, within the actor's branches. Raises Forbidden."""
    actor.require(Permission.loan_portfolio_view)
    query = (
        select(LoanAlert, Loan.number)
        .join(Loan, Loan.id == LoanAlert.loan_id)
        .where(LoanAlert.status == status)
        .order_by(LoanAlert.score.desc(), Loan.number)
    )
    if not actor.is_bank_wide:
        query = query.where(LoanAlert.branch_id.in_(list(actor.branch_ids)))
    return [alert_read(alert, number) for alert, number in db.execute(query).all()]


def alert_read(alert: LoanAlert, number: str) -> LoanAlertRead:
    return LoanAlertRead(
        id=alert.id, loan_number=number, status=alert.status, score=alert.score,
        reasons=list(alert.reasons), actions=list(alert.actions), opened_on=alert.opened_on,
        closed_at=alert.closed_at,
    )  # fmt: skip


def act_on_alert(
    db: Session, *, alert_id: uuid.UUID, action: AlertAction, outcome: str, close: bool,
    actor: Principal, now: datetime,
) -> LoanAlertRead:  # fmt: skip
    """Record an action and its outcome; ``close`` takes the loan off the list.

    Raises Forbidden, AlertNotFound, Conflict (closed already)."""
    actor.require(Permission.loan_alert_handle)
    alert = db.execute(
        select(LoanAlert)
        .where(LoanAlert.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if alert is None or not actor.sees_branch(alert.branch_id):
        raise AlertNotFound("no such alert")
    actor.require(Permission.loan_alert_handle, alert.branch_id)
    if alert.status != AlertStatus.open:
        raise Conflict("this alert is closed", code="alert_closed")
    alert.actions = [
        *alert.actions,
        {"action": str(action), "outcome": outcome.strip()[:300], "by": actor.username,
         "at": now.isoformat()},
    ]  # fmt: skip
    if close:
        alert.status = AlertStatus.closed
        alert.closed_at = now
    alert.updated_at = now
    db.flush()
    loan = db.get(Loan, alert.loan_id)
    assert loan is not None
    append_audit(
        db, action="loan.alert_action", object_type="loan", object_id=loan.id,
        branch_id=loan.branch_id, now=now, actor=actor,
        detail={"number": loan.number, "action": str(action), "closed": close},
    )  # fmt: skip
    return alert_read(alert, loan.number)
