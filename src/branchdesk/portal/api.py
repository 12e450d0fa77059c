"""The mobile-banking JSON API under /api/v1/portal: customer bearer tokens only.

Log in with ``POST /login`` (customer number / phone / e-mail + password: a one-time code is
sent) and ``POST /login/verify`` (the code: a bearer token comes back). Staff tokens get 403
here; customer tokens get 401 on staff routes. Accounts of other customers answer 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from branchdesk.appointments.schemas import AppointmentRead, SlotRead
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.web import DbSession
from branchdesk.identity.deps import ApiUser
from branchdesk.ledger.api import Compliance  # the check the ledger's own API posts through
from branchdesk.portal import export, service
from branchdesk.portal.delivery import deliver_codes
from branchdesk.portal.deps import ApiCustomer, Settings, issue_token, signer
from branchdesk.portal.schemas import (
    AccountSummary,
    ActivateBody,
    BookBody,
    BranchChoice,
    CodeSentRead,
    EnrolmentRead,
    LimitRead,
    LoginBody,
    NotificationSettings,
    PayBody,
    PaymentRequestBody,
    PaymentRequestRead,
    PortalTransferRead,
    RescheduleBody,
    ResendBody,
    StatementQuery,
    StatementRead,
    TicketBody,
    TicketTaken,
    TokenRead,
    TransferBody,
    TransferResult,
    VerifyBody,
)
from branchdesk.portal.service import visits
from branchdesk.queue.deps import waits

router = APIRouter(prefix="/api/v1/portal", tags=["portal (mobile banking)"])
staff_router = APIRouter(prefix="/api/v1", tags=["portal (mobile banking)"])


def _fail_after_commit(db: Session, error: DomainError) -> None:
    """Failed login steps keep their counters and locks: commit them, then refuse."""
    db.commit()
    raise error


# --- staff: enrolment ------------------------------------------------------------------------


@staff_router.post(
    "/customers/{customer_number}/portal-enrolment",
    response_model=EnrolmentRead,
    status_code=201,
    summary="Set up a customer's online banking login and send an activation code",
)
def enrol_customer(
    request: Request, db: DbSession, principal: ApiUser, settings: Settings,
    tasks: BackgroundTasks, customer_number: str,
) -> EnrolmentRead:  # fmt: skip
    done = service.enrol(
        db, customer_number=customer_number, actor=principal, signer=signer(request),
        settings=settings, now=utcnow(),
    )  # fmt: skip
    deliver_codes(request, settings, tasks, done.sent)
    return EnrolmentRead(
        customer_number=done.customer_number,
        status=done.status,
        code_sent_to=done.sent.sent_to if done.sent else None,
    )


# --- logging in --------------------------------------------------------------------------------


@router.post("/login", response_model=CodeSentRead, summary="Password step: sends a one-time code")
def login(
    request: Request, db: DbSession, settings: Settings, tasks: BackgroundTasks, body: LoginBody
) -> CodeSentRead:
    step = service.start_login(
        db, identifier=body.identifier, password=body.password, signer=signer(request),
        settings=settings, now=utcnow(),
    )  # fmt: skip
    if step.error is not None or step.sent is None:
        _fail_after_commit(db, step.error or service.InvalidLogin("log in again"))
    assert step.sent is not None
    deliver_codes(request, settings, tasks, step.sent)
    return CodeSentRead(
        challenge_id=step.sent.challenge_id,
        expires_at=step.sent.expires_at,
        sent_to=step.sent.sent_to,
    )


@router.post("/login/verify", response_model=TokenRead, summary="Code step: returns a token")
def verify(request: Request, db: DbSession, settings: Settings, body: VerifyBody) -> TokenRead:
    step = service.verify_login(
        db, challenge_id=body.challenge_id, code=body.code, signer=signer(request),
        settings=settings, now=utcnow(),
    )  # fmt: skip
    if step.error is not None or step.customer is None:
        _fail_after_commit(db, step.error or service.CodeRejected("log in again"))
    assert step.customer is not None
    return TokenRead(
        access_token=issue_token(request, step.customer),
        expires_in=settings.token_minutes * 60,
        customer_number=step.customer.customer_number,
        display_name=step.customer.display_name,
    )


@router.post("/login/resend", response_model=CodeSentRead, summary="A new one-time code")
def resend(
    request: Request, db: DbSession, settings: Settings, tasks: BackgroundTasks, body: ResendBody
) -> CodeSentRead:
    sent = service.resend_code(
        db, challenge_id=body.challenge_id, signer=signer(request), settings=settings,
        now=utcnow(),
    )  # fmt: skip
    deliver_codes(request, settings, tasks, sent)
    return CodeSentRead(
        challenge_id=sent.challenge_id, expires_at=sent.expires_at, sent_to=sent.sent_to
    )


@router.post(
    "/activate", response_model=TokenRead, summary="First password, with the activation code"
)
def activate(request: Request, db: DbSession, settings: Settings, body: ActivateBody) -> TokenRead:
    step = service.activate(
        db, customer_number=body.customer_number, code=body.code, password=body.password,
        signer=signer(request), settings=settings, now=utcnow(),
    )  # fmt: skip
    if step.error is not None or step.customer is None:
        _fail_after_commit(db, step.error or service.CodeRejected("wrong code"))
    assert step.customer is not None
    return TokenRead(
        access_token=issue_token(request, step.customer),
        expires_in=settings.token_minutes * 60,
        customer_number=step.customer.customer_number,
        display_name=step.customer.display_name,
    )


@router.post("/logout", status_code=204, summary="End every session and token of the customer")
def logout(db: DbSession, customer: ApiCustomer) -> Response:
    service.logout(db, customer=customer, now=utcnow())
    return Response(status_code=204)


# --- accounts and statements -------------------------------------------------------------------


@router.get("/accounts", response_model=list[AccountSummary])
def accounts(db: DbSession, customer: ApiCustomer) -> list[AccountSummary]:
    return service.list_accounts(db, customer=customer)


@router.get("/accounts/{number}", response_model=AccountSummary)
def account(db: DbSession, customer: ApiCustomer, number: str) -> AccountSummary:
    return service.account_summary(db, customer=customer, number=number)


def _query(
    from_on: date | None,
    to_on: date | None,
    text: str,
    min_minor: int | None,
    max_minor: int | None,
) -> StatementQuery:
    try:
        return StatementQuery(
            from_on=from_on, to_on=to_on, text=text, min_amount_minor=min_minor,
            max_amount_minor=max_minor,
        )  # fmt: skip
    except ValidationError as exc:
        detail = "; ".join(str(error.get("msg", "")) for error in exc.errors())
        raise RuleViolation(detail, field="query", code="validation_error") from exc


FromOn = Annotated[date | None, Query(description="First day (home-branch local)")]
ToOn = Annotated[date | None, Query(description="Last day (inclusive)")]
Text = Annotated[str, Query(max_length=100, description="Text in memo, kind or beneficiary")]
MinMinor = Annotated[int | None, Query(ge=0, description="Smallest absolute amount")]
MaxMinor = Annotated[int | None, Query(ge=0, description="Largest absolute amount")]


@router.get("/accounts/{number}/statement", response_model=StatementRead)
def statement(
    db: DbSession, customer: ApiCustomer, number: str, from_on: FromOn = None,
    to_on: ToOn = None, text: Text = "", min_amount_minor: MinMinor = None,
    max_amount_minor: MaxMinor = None,
) -> StatementRead:  # fmt: skip
    query = _query(from_on, to_on, text, min_amount_minor, max_amount_minor)
    return service.statement(db, customer=customer, number=number, query=query)


@router.get(
    "/accounts/{number}/statement.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def statement_csv(
    db: DbSession, customer: ApiCustomer, number: str, from_on: FromOn = None,
    to_on: ToOn = None, text: Text = "", min_amount_minor: MinMinor = None,
    max_amount_minor: MaxMinor = None,
) -> Response:  # fmt: skip
    query = _query(from_on, to_on, text, min_amount_minor, max_amount_minor)
    data = service.statement(db, customer=customer, number=number, query=query)
    return csv_response(data)


@router.get(
    "/accounts/{number}/statement.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def statement_pdf(
    db: DbSession, customer: ApiCustomer, number: str, from_on: FromOn = None,
    to_on: ToOn = None, text: Text = "", min_amount_minor: MinMinor = None,
    max_amount_minor: MaxMinor = None,
    locale: Annotated[str | None, Query(pattern=r"^(zh-Hant|zh-Hans|en)$")] = None,
) -> Response:  # fmt: skip
    query = _query(from_on, to_on, text, min_amount_minor, max_amount_minor)
    data = service.statement(db, customer=customer, number=number, query=query)
    return pdf_response(
        data, locale=locale or customer.preferred_locale, holder=customer.display_name
    )


def csv_response(data: StatementRead) -> Response:
    name = f"statement-{data.account.number}.csv"
    return Response(
        export.statement_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def pdf_response(data: StatementRead, *, locale: str, holder: str) -> Response:
    name = f"statement-{data.account.number}.pdf"
    return Response(
        export.statement_pdf(data, locale=locale, holder=holder),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- transfers and QR payments -----------------------------------------------------------------


def refused(db: Session, customer: service.CustomerPrincipal, action: str, exc: DomainError,
            detail: dict[str, object]) -> None:  # fmt: skip
    """Roll the money action back, keep one audit row of the refusal (committed)."""
    db.rollback()
    if service.audit_refusal(
        db, customer=customer, action=action, error=exc, detail=detail, now=utcnow()
    ):
        db.commit()


@router.post(
    "/transfers",
    response_model=TransferResult,
    status_code=201,
    summary="Transfer from an own account (201 new, 200 replay; status shows holds)",
)
def transfer(
    db: DbSession, customer: ApiCustomer, settings: Settings, compliance: Compliance,
    response: Response, body: TransferBody,
) -> TransferResult:  # fmt: skip
    try:
        result = service.make_transfer(
            db, customer=customer, from_account=body.from_account, to_account=body.to_account,
            amount_minor=body.amount_minor, currency=body.currency.upper(),
            idempotency_key=service.transfer_key(customer, body.idempotency_key),
            memo=body.memo, now=utcnow(), compliance=compliance, settings=settings,
        )  # fmt: skip
    except DomainError as exc:
        refused(db, customer, "portal.transfer", exc,
                {"amount_minor": body.amount_minor, "currency": body.currency})  # fmt: skip
        raise
    response.status_code = 200 if result.is_replay else 201
    return result


@router.get("/transfers", response_model=list[PortalTransferRead])
def transfers(db: DbSession, customer: ApiCustomer) -> list[PortalTransferRead]:
    return service.recent_transfers(db, customer=customer)


@router.get("/limits", response_model=list[LimitRead], summary="Daily limit and today's use")
def limits(db: DbSession, customer: ApiCustomer, settings: Settings) -> list[LimitRead]:
    now = utcnow()
    day = service.home_day(db, customer, now)
    currencies = sorted({a.currency for a in service.list_accounts(db, customer=customer)})
    return [
        LimitRead(
            currency=c,
            limit_minor=service.daily_limit(db, customer=customer, currency=c, settings=settings),
            used_today_minor=service.used_today(db, customer=customer, currency=c, day=day),
        )
        for c in currencies
    ]


@router.post("/payment-requests", response_model=PaymentRequestRead, status_code=201)
def create_payment_request(
    request: Request, db: DbSession, customer: ApiCustomer, settings: Settings,
    body: PaymentRequestBody,
) -> PaymentRequestRead:  # fmt: skip
    return service.create_payment_request(
        db, customer=customer, account=body.account, amount_minor=body.amount_minor,
        signer=signer(request), settings=settings, now=utcnow(),
    )  # fmt: skip


@router.post(
    "/payments",
    response_model=TransferResult,
    status_code=201,
    summary="Pay a pasted BDPAY1 payment request (paying it again replays, never pays twice)",
)
def pay(
    request: Request, db: DbSession, customer: ApiCustomer, settings: Settings,
    compliance: Compliance, response: Response, body: PayBody,
) -> TransferResult:  # fmt: skip
    try:
        result = service.pay_payment_request(
            db, customer=customer, payload=body.payload, from_account=body.from_account,
            signer=signer(request), settings=settings, compliance=compliance, now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:
        refused(db, customer, "portal.qr_payment", exc, {"from_account": body.from_account})
        raise
    response.status_code = 200 if result.is_replay else 201
    return result


# --- branch visits -----------------------------------------------------------------------------


@router.get("/branches", response_model=list[BranchChoice])
def branches(
    db: DbSession, customer: ApiCustomer,
    locale: Annotated[str | None, Query(pattern=r"^(zh-Hant|zh-Hans|en)$")] = None,
) -> list[BranchChoice]:  # fmt: skip
    return visits.branch_choices(db, locale=locale or customer.preferred_locale)


@router.post("/queue-tickets", response_model=TicketTaken, status_code=201)
def take_ticket(
    request: Request, db: DbSession, customer: ApiCustomer, body: TicketBody
) -> TicketTaken:
    return visits.take_ticket(
        db, customer=customer, branch_code=body.branch_code, service_code=body.service_code,
        now=utcnow(), estimator=waits(request),
    )  # fmt: skip


@router.get("/appointment-slots", response_model=list[SlotRead])
def slots(
    db: DbSession, customer: ApiCustomer, branch_code: Annotated[str, Query(max_length=16)],
    on: date, service_code: Annotated[str, Query(max_length=32)] = "",
) -> list[SlotRead]:  # fmt: skip
    return visits.list_slots(db, branch_code=branch_code, on=on, service_code=service_code)


@router.get("/appointments", response_model=list[AppointmentRead])
def appointments(db: DbSession, customer: ApiCustomer) -> list[AppointmentRead]:
    return visits.my_appointments(db, customer=customer)


@router.post("/appointments", response_model=AppointmentRead, status_code=201)
def book(db: DbSession, customer: ApiCustomer, body: BookBody) -> AppointmentRead:
    return visits.book(db, customer=customer, slot_id=body.slot_id, now=utcnow())


@router.post("/appointments/{reference}/reschedule", response_model=AppointmentRead)
def reschedule(
    db: DbSession, customer: ApiCustomer, reference: str, body: RescheduleBody
) -> AppointmentRead:
    return visits.reschedule(
        db, customer=customer, reference=reference, slot_id=body.slot_id, now=utcnow()
    )


@router.post("/appointments/{reference}/cancel", response_model=AppointmentRead)
def cancel(db: DbSession, customer: ApiCustomer, reference: str) -> AppointmentRead:
    return visits.cancel(db, customer=customer, reference=reference, now=utcnow())


# --- notification settings ---------------------------------------------------------------------


@router.get("/notification-settings", response_model=NotificationSettings)
def get_notification_settings(db: DbSession, customer: ApiCustomer) -> NotificationSettings:
    return service.get_preferences(db, customer_id=customer.customer_id, now=utcnow())


@router.put("/notification-settings", response_model=NotificationSettings)
def put_notification_settings(
    db: DbSession, customer: ApiCustomer, body: NotificationSettings
) -> NotificationSettings:
    return service.update_preferences(db, customer_id=customer.customer_id, data=body, now=utcnow())
