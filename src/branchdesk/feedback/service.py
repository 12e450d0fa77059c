"""Survey rules: open a link, answer once, roll up, invite remote customers, follow up.

Public functions take the session first and keyword arguments after it. Expected outcomes are
domain errors: ``InvalidSurveyLink`` (404), ``SurveyNotOpen`` and ``SurveyAlreadyAnswered``
(409), ``SurveyExpired`` (410), ``Forbidden`` and ``RuleViolation`` for the roll-ups.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.complaints import service as complaints
from branchdesk.core import i18n
from branchdesk.core.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation
from branchdesk.core.events import record_event
from branchdesk.core.ids import new_id
from branchdesk.core.jobs import Job, register_job
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.customers.models import Customer
from branchdesk.feedback import rules
from branchdesk.feedback.models import SurveyInvitation, SurveyResponse
from branchdesk.feedback.rules import Tally
from branchdesk.feedback.schemas import (
    GroupBy,
    SummaryRow,
    SurveyAnswer,
    SurveyPage,
    SurveySummary,
)
from branchdesk.feedback.tokens import SurveyTokens, survey_path
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.queue.models import Channel, Ticket, TicketState

INVITE_TEMPLATE = "feedback.survey_invite"
MAX_RANGE_DAYS = 731

register_template(
    INVITE_TEMPLATE,
    {
        "zh-Hant": "【{branch}】感謝您今天的光臨（號碼 {number}）。請花一分鐘為本次服務評分：{url}"
        "（{days} 天內有效）",
        "zh-Hans": "【{branch}】感谢您今天的光临（号码 {number}）。请花一分钟为本次服务评分：{url}"
        "（{days} 天内有效）",
        "en": "{branch}: thank you for your visit today (ticket {number}). "
        "Please rate our service in one minute: {url} (valid for {days} days)",
    },
)


class InvalidSurveyLink(NotFound):
    code = "invalid_survey_link"


class SurveyNotOpen(Conflict):
    code = "survey_not_open"


class SurveyAlreadyAnswered(Conflict):
    code = "survey_already_answered"


class SurveyExpired(DomainError):
    code = "survey_expired"
    status_code = 410


# --- the public link ----------------------------------------------------------------------------


def _ticket_for(db: Session, tokens: SurveyTokens, token: str) -> Ticket:
    ticket_id = tokens.ticket_id(token)
    ticket = db.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        raise InvalidSurveyLink("this survey link is not valid")
    return ticket


def _expires_at(ticket: Ticket, expiry_days: int) -> datetime | None:
    if ticket.finished_at is None:
        return None
    return ticket.finished_at + timedelta(days=expiry_days)


def _status(db: Session, ticket: Ticket, now: datetime, expiry_days: int) -> str:
    answered = db.execute(
        select(SurveyResponse.id).where(SurveyResponse.ticket_id == ticket.id)
    ).first()
    if answered is not None:
        return "answered"
    if ticket.state != TicketState.completed:
        return "not_completed"
    expires_at = _expires_at(ticket, expiry_days)
    if expires_at is not None and now >= expires_at:
        return "expired"
    return "open"


def survey_page(
    db: Session, *, tokens: SurveyTokens, token: str, now: datetime, expiry_days: int
) -> SurveyPage:
    """What the survey link shows. Raises InvalidSurveyLink (forged, tampered or unknown)."""
    ticket = _ticket_for(db, tokens, token)
    branch = db.get(Branch, ticket.branch_id)
    service = db.get(ServiceType, ticket.service_type_id)
    assert branch is not None
    assert service is not None
    expires_at = _expires_at(ticket, expiry_days)
    return SurveyPage(
        status=_status(db, ticket, now, expiry_days),
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        service_name=i18n.localized(service.name_zh_hant, service.name_zh_hans, service.name_en),
        branch_code=branch.code,
        branch_name=i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en),
        expires_on=catalog.local_now(branch, expires_at).date() if expires_at else None,
    )


def answer_survey(
    db: Session,
    *,
    tokens: SurveyTokens,
    token: str,
    answer: SurveyAnswer,
    locale: str,
    now: datetime,
    expiry_days: int,
) -> SurveyResponse:
    """Record the one answer of a completed visit, copying its dimensions for the roll-ups.

    Raises InvalidSurveyLink, SurveyNotOpen (not completed), SurveyExpired,
    SurveyAlreadyAnswered. A detractor opens a follow-up case in the same transaction.
    """
    ticket = _ticket_for(db, tokens, token)
    status = _status(db, ticket, now, expiry_days)
    if status == "answered":
        raise SurveyAlreadyAnswered("this visit has already been rated; thank you")
    if status == "not_completed":
        raise SurveyNotOpen("the survey opens when your visit is completed")
    if status == "expired":
        raise SurveyExpired("this survey link has expired")
    branch = db.get(Branch, ticket.branch_id)
    assert branch is not None
    response = SurveyResponse(
        id=new_id(),
        ticket_id=ticket.id,
        branch_id=branch.id,
        region=branch.region,
        service_type_id=ticket.service_type_id,
        counter_id=ticket.counter_id,
        teller_id=ticket.served_by_id,
        business_on=ticket.business_on,
        csat=answer.csat,
        nps=answer.nps,
        comment=answer.comment.strip(),
        locale=locale if locale in ("zh-Hant", "zh-Hans", "en") else "en",
        is_detractor=rules.is_detractor(csat=answer.csat, nps=answer.nps),
        answered_at=now,
    )
    try:
        with db.begin_nested():  # two submissions racing: the unique ticket id decides
            db.add(response)
            db.flush()
    except IntegrityError as exc:
        raise SurveyAlreadyAnswered("this visit has already been rated; thank you") from exc
    record_event(
        db,
        type="feedback.answered",
        aggregate_type="survey_response",
        aggregate_id=response.id,
        branch_id=branch.id,
        payload={
            "ticket": str(ticket.id),
            "number": ticket.number,
            "csat": answer.csat,
            "nps": answer.nps,
            "is_detractor": response.is_detractor,
        },
        now=now,
    )
    if response.is_detractor:
        response.follow_up_case_id = open_follow_up(
            db, response=response, ticket=ticket, branch=branch, now=now
        )
    db.flush()
    return response


def record_refusal(
    db: Session, *, tokens: SurveyTokens, token: str, reason: str, now: datetime
) -> None:
    """Audit a refused answer (forged or reused link, second answer); nothing else is written."""
    ticket_id = tokens.ticket_id(token)
    ticket = db.get(Ticket, ticket_id) if ticket_id is not None else None
    append_audit(
        db,
        action="survey.answer",
        object_type="ticket",
        now=now,
        actor_label="public survey link",
        object_id=ticket.id if ticket is not None else None,
        branch_id=ticket.branch_id if ticket is not None else None,
        outcome="refused",
        detail={"reason": reason},
    )


# --- detractor follow-up ------------------------------------------------------------------------


def open_follow_up(
    db: Session, *, response: SurveyResponse, ticket: Ticket, branch: Branch, now: datetime
) -> uuid.UUID:
    """Open the follow-up of a detractor: a complaints case (channel "survey", keyed by the
    response id, so it is opened once) and a ``feedback.detractor`` event; returns the case id.
    Raises RuleViolation (from the case flow) only on a bug: every value here is valid.
    """
    body = f"CSAT {response.csat}/5, NPS {response.nps}/10"
    if response.comment:
        body += f"\n\n{response.comment}"
    case = complaints.open_case(
        db,
        channel="survey",
        subject=f"Survey follow-up: ticket {ticket.number} ({ticket.business_on.isoformat()})",
        body=body,
        branch_id=branch.id,
        now=now,
        customer_id=ticket.customer_id,
        related_ticket_id=ticket.id,
        severity="normal",
        category=None,
        actor=None,
        source_ref=str(response.id),
        contact_phone=ticket.contact_phone,
        locale=response.locale,
    )
    case_id = case.id
    record_event(
        db,
        type="feedback.detractor",
        aggregate_type="survey_response",
        aggregate_id=response.id,
        branch_id=branch.id,
        payload={
            "response": str(response.id),
            "ticket": str(ticket.id),
            "number": ticket.number,
            "csat": response.csat,
            "nps": response.nps,
            "case": str(case_id),
        },
        now=now,
    )
    return case_id


# --- roll-ups -----------------------------------------------------------------------------------


def _scope(db: Session, actor: Principal, branch_code: str | None) -> list[uuid.UUID]:
    """Branch ids the roll-up may read. Raises Forbidden, NotFound."""
    actor.require(Permission.feedback_view)
    if branch_code:
        branch = catalog.get_branch_by_code(db, branch_code)
        if not actor.sees_branch(branch.id):
            raise Forbidden("this branch is outside your assignment")
        return [branch.id]
    if actor.is_bank_wide:
        # Named explicitly, so the tickets' (branch, day, state) index serves the date range.
        return sorted(db.execute(select(Branch.id)).scalars())
    return sorted(actor.branch_ids)


def _response_key(group_by: GroupBy) -> Any:
    return {
        GroupBy.teller: SurveyResponse.teller_id,
        GroupBy.counter: SurveyResponse.counter_id,
        GroupBy.service: SurveyResponse.service_type_id,
        GroupBy.branch: SurveyResponse.branch_id,
        GroupBy.region: SurveyResponse.region,
        GroupBy.day: SurveyResponse.business_on,
    }[group_by]


def _ticket_key(group_by: GroupBy) -> Any:
    return {
        GroupBy.teller: Ticket.served_by_id,
        GroupBy.counter: Ticket.counter_id,
        GroupBy.service: Ticket.service_type_id,
        GroupBy.branch: Ticket.branch_id,
        GroupBy.region: Branch.region,
        GroupBy.day: Ticket.business_on,
    }[group_by]


def _key_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _labels(db: Session, group_by: GroupBy, keys: Iterable[str]) -> dict[str, str]:
    ids = [uuid.UUID(k) for k in keys if k and group_by not in (GroupBy.day, GroupBy.region)]
    labels: dict[str, str] = {}
    if group_by == GroupBy.teller and ids:
        for user_id, name in db.execute(select(User.id, User.display_name).where(User.id.in_(ids))):
            labels[str(user_id)] = name
    elif group_by == GroupBy.counter and ids:
        for counter_id, code, name, branch_code in db.execute(
            select(Counter.id, Counter.code, Counter.name, Branch.code)
            .join(Branch, Branch.id == Counter.branch_id)
            .where(Counter.id.in_(ids))
        ):
            labels[str(counter_id)] = f"{branch_code} {code} · {name}"
    elif group_by == GroupBy.service and ids:
        for service in db.execute(select(ServiceType).where(ServiceType.id.in_(ids))).scalars():
            labels[str(service.id)] = i18n.localized(
                service.name_zh_hant, service.name_zh_hans, service.name_en
            )
    elif group_by == GroupBy.branch and ids:
        for branch in db.execute(select(Branch).where(Branch.id.in_(ids))).scalars():
            name = i18n.localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en)
            labels[str(branch.id)] = f"{branch.code} · {name}"
    return labels


def _row(key: str, label: str, tally: Tally) -> SummaryRow:
    return SummaryRow(
        key=key,
        label=label,
        completed=tally.completed,
        responses=tally.responses,
        response_rate=tally.response_rate,
        csat_average=tally.csat_average,
        csat_distribution=list(tally.csat_counts),
        promoters=tally.promoters,
        passives=tally.passives,
        detractors=tally.detractors,
        nps=tally.nps,
    )


def _in_scope(query: Select[Any], column: Any, branch_ids: list[uuid.UUID]) -> Select[Any]:
    return query.where(column.in_(branch_ids))


def summarize(
    db: Session,
    *,
    actor: Principal,
    group_by: GroupBy,
    from_on: date,
    to_on: date,
    branch_code: str | None = None,
) -> SurveySummary:
    """CSAT, NPS and response rate per group over business days ``from_on``..``to_on``.

    Raises Forbidden (no feedback.view, or a branch outside the actor's), NotFound (branch),
    RuleViolation (range reversed or longer than two years).
    """
    branch_ids = _scope(db, actor, branch_code)
    if to_on < from_on:
        raise RuleViolation("the range ends before it starts", field="to")
    if (to_on - from_on).days >= MAX_RANGE_DAYS:
        raise RuleViolation("choose a range of at most two years", field="from")
    key = _response_key(group_by)
    responses = select(
        key,
        func.count(),
        func.sum(SurveyResponse.csat),
        *(func.sum(case((SurveyResponse.csat == n, 1), else_=0)) for n in range(1, 6)),
        func.sum(case((SurveyResponse.nps >= 9, 1), else_=0)),
        func.sum(case((SurveyResponse.nps <= 6, 1), else_=0)),
    ).where(SurveyResponse.business_on.between(from_on, to_on))
    responses = _in_scope(responses, SurveyResponse.branch_id, branch_ids).group_by(key)
    tallies: dict[str, Tally] = {}
    for row in db.execute(responses):
        counts = tuple(int(v or 0) for v in row[3:8])
        tallies[_key_text(row[0])] = Tally(
            responses=int(row[1]),
            csat_sum=int(row[2] or 0),
            csat_counts=(counts[0], counts[1], counts[2], counts[3], counts[4]),
            promoters=int(row[8] or 0),
            detractors=int(row[9] or 0),
        )
    ticket_key = _ticket_key(group_by)
    completed = (
        select(ticket_key, func.count())
        .select_from(Ticket)
        .where(Ticket.state == TicketState.completed, Ticket.business_on.between(from_on, to_on))
    )
    if group_by == GroupBy.region:
        completed = completed.join(Branch, Branch.id == Ticket.branch_id)
    completed = _in_scope(completed, Ticket.branch_id, branch_ids).group_by(ticket_key)
    for value, count in db.execute(completed):
        name = _key_text(value)
        tallies[name] = tallies.get(name, Tally()) + Tally(completed=int(count))
    labels = _labels(db, group_by, tallies)
    rows = [
        _row(name, labels.get(name) or name or "—", tally)
        for name, tally in sorted(tallies.items())
    ]
    if group_by != GroupBy.day:
        rows.sort(key=lambda r: (r.label, r.key))
    total = sum(tallies.values(), Tally())
    return SurveySummary(
        group_by=group_by,
        from_on=from_on,
        to_on=to_on,
        branch_code=branch_code.upper() if branch_code else None,
        total=_row("total", "total", total),
        rows=rows,
    )


def default_range(db: Session, now: datetime, days: int = 30) -> tuple[date, date]:
    """The last ``days`` business days, up to the newest day any branch has reached."""
    to_on = catalog.latest_business_day(db, now)
    return to_on - timedelta(days=days - 1), to_on


# --- invitations for remote tickets -------------------------------------------------------------


def send_invitations(
    db: Session,
    *,
    tokens: SurveyTokens,
    base_url: str,
    now: datetime,
    expiry_days: int,
    limit: int = 500,
) -> int:
    """Queue one SMS/e-mail invitation per completed remote ticket with a contact (once each,
    while its survey is open and unanswered); returns how many were queued.
    """
    since = now - timedelta(days=expiry_days)
    query = (
        select(Ticket, Branch, Customer)
        .join(Branch, Branch.id == Ticket.branch_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(SurveyInvitation, SurveyInvitation.ticket_id == Ticket.id)
        .outerjoin(SurveyResponse, SurveyResponse.ticket_id == Ticket.id)
        .where(
            Ticket.state == TicketState.completed,
            Ticket.channel == Channel.remote,
            Ticket.finished_at > since,
            Ticket.finished_at <= now,
            SurveyInvitation.ticket_id.is_(None),
            SurveyResponse.id.is_(None),
        )
        .order_by(Ticket.finished_at)
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Ticket)  # one sender per ticket
    sent = 0
    for ticket, branch, customer in db.execute(query).all():
        phone = ticket.contact_phone or (customer.phone if customer is not None else "")
        email = customer.email if customer is not None else ""
        if not phone and not email:
            continue
        locale = "zh-Hans" if branch.timezone == "Asia/Shanghai" else "zh-Hant"
        url = base_url.rstrip("/") + survey_path(tokens.token_for(ticket.id))
        queue_notification(
            db,
            message=Message(
                template=INVITE_TEMPLATE,
                locale=locale,
                to_phone=phone,
                to_email=email,
                values={
                    "branch": i18n.localized(
                        branch.name_zh_hant, branch.name_zh_hans, branch.name_en, locale
                    ),
                    "number": ticket.number,
                    "url": url,
                    "days": str(expiry_days),
                },
            ),
            now=now,
            aggregate_type="ticket",
            aggregate_id=ticket.id,
            branch_id=branch.id,
        )
        sent_to = "+".join(name for name, to in (("sms", phone), ("email", email)) if to)
        db.add(
            SurveyInvitation(ticket_id=ticket.id, branch_id=branch.id, sent_to=sent_to, sent_at=now)
        )
        sent += 1
    db.flush()
    return sent


def ticket_number(db: Session, ticket_id: uuid.UUID) -> str:
    return str(db.execute(select(Ticket.number).where(Ticket.id == ticket_id)).scalar_one())


def survey_link(tokens: SurveyTokens, ticket_id: uuid.UUID) -> str:
    """The survey path of a ticket (phone page, printed ticket, SMS)."""
    return survey_path(tokens.token_for(ticket_id))


def visible_branches(db: Session, *, actor: Principal) -> list[tuple[str, str]]:
    """(code, localized name) of the branches whose surveys the actor may read."""
    actor.require(Permission.feedback_view)
    return [
        (b.code, i18n.localized(b.name_zh_hant, b.name_zh_hans, b.name_en))
        for b in catalog.active_branches(db, actor=actor)
    ]


def _invite_job(db: Session, now: datetime) -> int:
    """The worker's scheduled round of survey invitations (same as `branchdesk feedback invite`)."""
    from branchdesk.core.config import get_settings
    from branchdesk.feedback.tokens import survey_settings, tokens_for_secret

    survey = survey_settings()
    tokens = tokens_for_secret(get_settings().resolved_secret_key())
    return send_invitations(
        db, tokens=tokens, base_url=survey.base_url, now=now, expiry_days=survey.expiry_days
    )


register_job(Job(name="feedback.invite", every=timedelta(minutes=1), run=_invite_job))
