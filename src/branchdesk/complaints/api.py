"""JSON API of complaints (staff, bearer auth) and the signed inbound webhooks (e-mail, social)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from branchdesk.catalog.models import Branch
from branchdesk.complaints import actions, intake, rules, service
from branchdesk.complaints.models import plain
from branchdesk.complaints.present import case_detail, case_read, improvement_read
from branchdesk.complaints.schemas import (
    AssignIn,
    CaseCreate,
    CaseDetail,
    CaseRead,
    CategoryIn,
    ComplexityIn,
    EmailHookIn,
    EmailHookRead,
    ExtensionDecisionIn,
    ExtensionIn,
    ImprovementCreate,
    ImprovementRead,
    ImprovementUpdate,
    IntakeRead,
    JurisdictionIn,
    JurisdictionRead,
    MessageIn,
    PolicyRead,
    PolicyRuleRead,
    TargetRead,
    TransitionIn,
)
from branchdesk.complaints.settings import hook_secret, signature_ok
from branchdesk.core.clock import utcnow
from branchdesk.core.errors import DomainError, NotFound, RuleViolation, Unauthorized
from branchdesk.core.web import DbSession
from branchdesk.identity.audit import append_audit
from branchdesk.identity.deps import ApiUser
from branchdesk.identity.roles import Permission

router = APIRouter(prefix="/api/v1", tags=["complaints"])
hooks = APIRouter(prefix="/hooks", tags=["complaint webhooks"])

SIGNATURE_HEADER = "x-branchdesk-signature"


def _detail(db: DbSession, reference: str, principal: ApiUser) -> CaseDetail:
    case = service.get_case(db, reference=reference, actor=principal)
    return case_detail(db, case, now=utcnow())


@router.get("/complaints", response_model=list[CaseRead], summary="Complaints in your branches")
def list_complaints(
    db: DbSession,
    principal: ApiUser,
    state: Annotated[str | None, Query(max_length=24)] = None,
    channel: Annotated[str | None, Query(max_length=24)] = None,
    branch_code: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
) -> list[CaseRead]:
    branch_id = None
    if branch_code:
        branch_id = _branch_id(db, branch_code)
    now = utcnow()
    filters = service.CaseFilter(state=state, channel=channel, branch_id=branch_id, overdue=overdue)
    cases = service.list_cases(db, actor=principal, now=now, filters=filters)
    return [case_read(c, now=now) for c in cases]


def _branch_id(db: DbSession, code: str) -> uuid.UUID:
    from sqlalchemy import select

    branch_id = db.execute(select(Branch.id).where(Branch.code == plain(code.upper()))).scalar()
    if branch_id is None:
        raise RuleViolation("no such branch", field="branch_code")
    return branch_id


@router.post(
    "/complaints",
    status_code=201,
    response_model=CaseDetail,
    summary="Open a complaint taken at the counter or on the phone",
)
def create_complaint(db: DbSession, principal: ApiUser, body: CaseCreate) -> CaseDetail:
    case = service.open_case_for_staff(db, data=body, actor=principal, now=utcnow())
    return case_detail(db, case, now=utcnow())


@router.get("/complaints/{reference}", response_model=CaseDetail, summary="A case and its timeline")
def get_complaint(db: DbSession, principal: ApiUser, reference: str) -> CaseDetail:
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/transitions",
    response_model=CaseDetail,
    summary="acknowledge, start, wait (on the customer), resume, resolve, close, reopen",
    responses={409: {"description": "The state machine forbids this action now"}},
)
def transition(db: DbSession, principal: ApiUser, reference: str, body: TransitionIn) -> CaseDetail:
    with service.audited_refusal(
        db, actor=principal, action=f"complaint.{body.action}", object_id=reference
    ):
        service.transition(
            db, reference=reference, action=body.action, actor=principal, now=utcnow(),
            note=body.note, root_cause=body.root_cause, resolution=body.resolution,
        )  # fmt: skip
    return _detail(db, reference, principal)


@router.post("/complaints/{reference}/assign", response_model=CaseDetail, summary="Assign")
def assign(db: DbSession, principal: ApiUser, reference: str, body: AssignIn) -> CaseDetail:
    service.assign(
        db, reference=reference, assignee_id=body.assignee_id, actor=principal, now=utcnow()
    )
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/messages",
    response_model=CaseDetail,
    summary="Reply to the customer (kind reply) or add an internal note",
)
def add_message(db: DbSession, principal: ApiUser, reference: str, body: MessageIn) -> CaseDetail:
    if body.kind == "reply":
        with service.audited_refusal(
            db, actor=principal, action="complaint.reply", object_id=reference
        ):
            service.reply(db, reference=reference, text=body.text, actor=principal, now=utcnow())
    else:
        service.add_note(db, reference=reference, text=body.text, actor=principal, now=utcnow())
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/category",
    response_model=CaseDetail,
    summary="Correct the category (kept for the text classifier)",
)
def correct_category(
    db: DbSession, principal: ApiUser, reference: str, body: CategoryIn
) -> CaseDetail:
    service.correct_category(
        db, reference=reference, category=body.category, actor=principal, now=utcnow()
    )
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/complexity",
    response_model=CaseDetail,
    summary="Mark a case complex (or not): the policy's longer final-answer target applies",
)
def set_complexity(
    db: DbSession, principal: ApiUser, reference: str, body: ComplexityIn
) -> CaseDetail:
    service.set_complex(
        db, reference=reference, is_complex=body.is_complex, reason=body.reason, actor=principal,
        now=utcnow(),
    )  # fmt: skip
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/extensions",
    status_code=201,
    response_model=CaseDetail,
    summary="Ask for a longer final-answer deadline (total days; a supervisor approves)",
)
def request_extension(
    db: DbSession, principal: ApiUser, reference: str, body: ExtensionIn
) -> CaseDetail:
    service.request_extension(
        db, reference=reference, total_days=body.total_days, reason=body.reason,
        actor=principal, now=utcnow(),
    )  # fmt: skip
    return _detail(db, reference, principal)


@router.post(
    "/complaints/{reference}/extensions/{extension_id}/decision",
    response_model=CaseDetail,
    summary="Approve (customer notified, deadline moves) or reject; not the requester",
)
def decide_extension(
    db: DbSession,
    principal: ApiUser,
    reference: str,
    extension_id: uuid.UUID,
    body: ExtensionDecisionIn,
) -> CaseDetail:
    with service.audited_refusal(
        db, actor=principal, action="complaint.extension_decide", object_id=reference
    ):
        service.decide_extension(
            db, reference=reference, extension_id=extension_id, approve=body.approve,
            actor=principal, now=utcnow(),
        )  # fmt: skip
    return _detail(db, reference, principal)


# --- policies and jurisdictions -----------------------------------------------------------


@router.get(
    "/complaint-policies",
    response_model=list[PolicyRead],
    summary="The SLA policies in force (versioned data shipped with the package)",
)
def list_policies(principal: ApiUser) -> list[PolicyRead]:
    principal.require(Permission.complaint_view)
    book = rules.policy_book()
    return [
        PolicyRead(
            jurisdiction=policy.jurisdiction,
            code=policy.code,
            version=policy.version,
            name=policy.name,
            warn_lead_hours=policy.warn_lead_hours,
            rules=[
                PolicyRuleRead(
                    channel=channel,
                    severity=severity,
                    acknowledge=TargetRead(days=rule.acknowledge.days, unit=rule.acknowledge.unit),
                    interim=TargetRead(days=rule.interim.days, unit=rule.interim.unit),
                    final=TargetRead(days=rule.final.days, unit=rule.final.unit),
                    complex_final_days=rule.complex_final_days,
                    max_final_days=rule.max_final_days,
                )
                for channel, severity, rule in policy.rules
            ],
        )
        for policy in book.policies.values()
    ]


@router.put(
    "/branches/{branch_code}/complaint-jurisdiction",
    response_model=JurisdictionRead,
    summary="Choose the SLA jurisdiction a branch follows (new cases use it)",
)
def set_jurisdiction(
    db: DbSession, principal: ApiUser, branch_code: str, body: JurisdictionIn
) -> JurisdictionRead:
    branch_id = _branch_id(db, branch_code)
    jurisdiction = body.jurisdiction.upper()
    service.set_branch_jurisdiction(
        db, branch_id=branch_id, jurisdiction=jurisdiction, actor=principal, now=utcnow()
    )
    return JurisdictionRead(
        branch_code=branch_code.upper(),
        jurisdiction=jurisdiction,
        policy_code=rules.policy_book().policy(jurisdiction).code,
    )


# --- improvement actions ------------------------------------------------------------------


@router.get(
    "/improvement-actions", response_model=list[ImprovementRead], summary="Improvement actions"
)
def list_improvements(db: DbSession, principal: ApiUser) -> list[ImprovementRead]:
    return [improvement_read(*row) for row in actions.list_actions(db, actor=principal)]


@router.post(
    "/improvement-actions",
    status_code=201,
    response_model=ImprovementRead,
    summary="Create an improvement action from a case or a topic",
)
def create_improvement(
    db: DbSession, principal: ApiUser, body: ImprovementCreate
) -> ImprovementRead:
    action = actions.create_action(
        db, title=body.title, owner_username=body.owner, due_on=body.due_on, kpi=body.kpi,
        actor=principal, now=utcnow(), case_reference=body.case_reference, topic=body.topic,
        baseline_value=body.baseline_value,
    )  # fmt: skip
    return _improvement(db, principal, action.id)


def _improvement(db: DbSession, principal: ApiUser, action_id: uuid.UUID) -> ImprovementRead:
    rows = actions.list_actions(db, actor=principal, action_id=action_id)
    if not rows:
        raise NotFound("no such improvement action")
    return improvement_read(*rows[0])


@router.patch(
    "/improvement-actions/{action_id}",
    response_model=ImprovementRead,
    summary="Record status and the measured value",
)
def update_improvement(
    db: DbSession, principal: ApiUser, action_id: uuid.UUID, body: ImprovementUpdate
) -> ImprovementRead:
    actions.update_action(
        db, action_id=action_id, actor=principal, now=utcnow(), status=body.status,
        measured_value=body.measured_value,
    )  # fmt: skip
    return _improvement(db, principal, action_id)


# --- signed webhooks ----------------------------------------------------------------------


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _verify(request: Request, db: DbSession, channel: str, body: bytes) -> dict[str, Any]:
    app_secret = request.app.state.settings.resolved_secret_key()
    if not signature_ok(
        body, hook_secret(channel, app_secret=app_secret), request.headers.get(SIGNATURE_HEADER)
    ):
        db.rollback()
        append_audit(
            db, action="complaint.hook_refused", object_type="webhook", object_id=channel,
            now=utcnow(), actor_label="webhook", outcome="refused",
            detail={"reason": "bad_signature"},
        )  # fmt: skip
        db.commit()
        raise Unauthorized("bad or missing signature", code="bad_signature")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise RuleViolation("the body is not JSON", field="body") from exc
    if not isinstance(payload, dict):
        raise RuleViolation("the body must be a JSON object", field="body")
    return payload


def _json_error(db: DbSession, exc: DomainError) -> JSONResponse:
    """Webhook senders are machines: errors are JSON (the app answers HTML outside /api)."""
    db.rollback()
    body: dict[str, Any] = {"error": exc.code, "detail": exc.detail}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse(body, status_code=exc.status_code)


@hooks.post(
    "/social/{channel}",
    response_model=IntakeRead,
    summary="Social-media messages (generic, wechat, line, facebook); HMAC-SHA256 signed",
    responses={401: {"description": "Bad signature: nothing is written"}},
)
def social_hook(
    request: Request,
    db: DbSession,
    channel: str,
    body: RawBody,
    branch: Annotated[
        str, Query(max_length=16, description="Branch code when the body has none")
    ] = "",
) -> IntakeRead | JSONResponse:
    try:
        if channel not in intake.HOOK_CHANNELS:
            raise NotFound("unknown channel")
        payload = _verify(request, db, str(intake.HOOK_CHANNELS[channel]), body)
        result = intake.ingest_social(
            db, hook=channel, payload=payload, now=utcnow(), default_branch_code=branch.upper()
        )
    except DomainError as exc:
        return _json_error(db, exc)
    return IntakeRead(
        accepted=result.accepted, ignored=result.ignored, references=result.references
    )


@hooks.post(
    "/email",
    response_model=EmailHookRead,
    summary="An inbound e-mail (replies naming CMP-YYYY-NNNNNN join that case); signed",
    responses={401: {"description": "Bad signature: nothing is written"}},
)
def email_hook(
    request: Request,
    db: DbSession,
    body: RawBody,
    branch: Annotated[str, Query(max_length=16)] = "",
) -> EmailHookRead | JSONResponse:
    try:
        payload = _verify(request, db, "email", body)
        try:
            data = EmailHookIn.model_validate(payload)
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "body"
            raise RuleViolation("the e-mail is incomplete or malformed", field=field) from exc
        case, is_new = intake.ingest_email(
            db,
            mail=intake.InboundEmail(
                message_id=data.message_id,
                from_address=data.from_address,
                from_name=data.from_name,
                subject=data.subject,
                text=data.text,
            ),
            branch_code=(data.branch_code or branch).upper(),
            now=utcnow(),
        )
    except DomainError as exc:
        return _json_error(db, exc)
    return EmailHookRead(reference=case.reference, is_new_case=is_new)
