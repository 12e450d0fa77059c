"""Control self-assessment: questionnaires, a branch's answers per period and their score.

Score = (2 x yes + 1 x partial) x 100 // (2 x questions): all ``yes`` is 100, all ``no`` is 0.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.operations.access import require_branch
from branchdesk.operations.models import CsaQuestionnaire, CsaResponse
from branchdesk.operations.schemas import (
    CsaAnswer,
    CsaQuestionnaireCreate,
    CsaQuestionnaireRead,
    CsaResponseCreate,
    CsaResponseRead,
)


class AlreadyAnswered(Conflict):
    code = "already_answered"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


def score(answers: Sequence[CsaAnswer | str]) -> int:
    points = sum(2 if a == CsaAnswer.yes else 1 if a == CsaAnswer.partial else 0 for a in answers)
    return points * 100 // (2 * len(answers)) if answers else 0


def _read(q: CsaQuestionnaire) -> CsaQuestionnaireRead:
    return CsaQuestionnaireRead(
        id=q.id, code=q.code, title_en=q.title_en, title_zh_hant=q.title_zh_hant,
        title_zh_hans=q.title_zh_hans, questions=list(q.questions),
    )  # fmt: skip


def create_questionnaire(
    db: Session, *, body: CsaQuestionnaireCreate, actor: Principal, now: datetime
) -> CsaQuestionnaireRead:
    actor.require(Permission.control_assessment_manage)
    questionnaire = CsaQuestionnaire(
        code=body.code.upper(), title_zh_hant=body.title_zh_hant,
        title_zh_hans=body.title_zh_hans, title_en=body.title_en,
        questions=[q.model_dump(by_alias=True) for q in body.questions], created_at=now,
    )  # fmt: skip
    try:
        with db.begin_nested():
            db.add(questionnaire)
            db.flush()
    except IntegrityError:
        raise Conflict(f"questionnaire {questionnaire.code} exists") from None
    append_audit(
        db, actor=actor, action="csa.questionnaire_create", object_type="csa_questionnaire",
        object_id=questionnaire.id, now=now,
        detail={"code": questionnaire.code, "questions": len(body.questions)},
    )  # fmt: skip
    return _read(questionnaire)


def list_questionnaires(db: Session, *, actor: Principal) -> list[CsaQuestionnaireRead]:
    actor.require(Permission.control_assessment_view)
    rows = db.execute(select(CsaQuestionnaire).order_by(CsaQuestionnaire.code)).scalars()
    return [_read(q) for q in rows]


def _response_read(
    branch: Branch, q: CsaQuestionnaire, r: CsaResponse, reviewer: str | None = None
) -> CsaResponseRead:
    return CsaResponseRead(
        id=r.id, questionnaire_code=q.code, branch_code=branch.code, period=r.period,
        answers=[CsaAnswer(a) for a in r.answers], score=r.score, submitted_at=r.submitted_at,
        comment=r.comment, reviewed_by=reviewer, reviewed_at=r.reviewed_at,
        review_note=r.review_note,
    )  # fmt: skip


def submit_response(
    db: Session, *, branch: Branch, body: CsaResponseCreate, actor: Principal, now: datetime
) -> CsaResponseRead:
    """A branch answers a questionnaire for a period (once). Raises 422 on a wrong count."""
    actor.require(Permission.control_assessment_submit, branch.id)
    questionnaire = db.execute(
        select(CsaQuestionnaire).where(CsaQuestionnaire.code == body.questionnaire_code.upper())
    ).scalar_one_or_none()
    if questionnaire is None:
        raise RuleViolation("no such questionnaire", field="questionnaire_code")
    if len(body.answers) != len(questionnaire.questions):
        raise RuleViolation(
            f"{len(questionnaire.questions)} answers expected, got {len(body.answers)}",
            field="answers",
        )
    response = CsaResponse(
        questionnaire_id=questionnaire.id, branch_id=branch.id, period=body.period,
        answers=[str(a) for a in body.answers], score=score(body.answers), comment=body.comment,
        submitted_by_id=actor.user_id, submitted_at=now,
    )  # fmt: skip
    try:
        with db.begin_nested():
            db.add(response)
            db.flush()
    except IntegrityError:
        raise AlreadyAnswered(
            f"{branch.code} answered {questionnaire.code} for {body.period} already"
        ) from None
    append_audit(
        db, actor=actor, action="csa.response_submit", object_type="csa_response",
        object_id=response.id, branch_id=branch.id, now=now,
        detail={"questionnaire": questionnaire.code, "period": body.period,
                "score": response.score},
    )  # fmt: skip
    return _response_read(branch, questionnaire, response)


def list_responses(db: Session, *, branch: Branch, actor: Principal) -> list[CsaResponseRead]:
    require_branch(actor, Permission.control_assessment_view, branch.id)
    rows = db.execute(
        select(CsaResponse, CsaQuestionnaire, User.username)
        .join(CsaQuestionnaire, CsaQuestionnaire.id == CsaResponse.questionnaire_id)
        .outerjoin(User, User.id == CsaResponse.reviewed_by_id)
        .where(CsaResponse.branch_id == branch.id)
        .order_by(CsaResponse.period.desc(), CsaQuestionnaire.code)
    ).all()
    return [_response_read(branch, q, r, reviewer) for r, q, reviewer in rows]


def review_response(
    db: Session, *, response_id: uuid.UUID, note: str, actor: Principal, now: datetime
) -> CsaResponseRead:
    """A compliance officer reviews a branch's answers with a note, once. Raises Forbidden,
    NotFound, AlreadyReviewed (409), RuleViolation (empty note)."""
    actor.require(Permission.control_assessment_manage)
    response = db.execute(
        select(CsaResponse).where(CsaResponse.id == response_id).with_for_update()
    ).scalar_one_or_none()
    if response is None:
        raise NotFound("no such self-assessment")
    if response.reviewed_at is not None:
        raise AlreadyReviewed("this self-assessment was reviewed already")
    note = note.strip()
    if not note:
        raise RuleViolation("write what the review found", field="note")
    response.reviewed_by_id = actor.user_id
    response.reviewed_at = now
    response.review_note = note[:4000]
    db.flush()
    branch = db.get(Branch, response.branch_id)
    questionnaire = db.get(CsaQuestionnaire, response.questionnaire_id)
    assert branch is not None  # a foreign key
    assert questionnaire is not None  # a foreign key
    append_audit(
        db, actor=actor, action="csa.response_review", object_type="csa_response",
        object_id=response.id, branch_id=branch.id, now=now,
        detail={"questionnaire": questionnaire.code, "period": response.period,
                "score": response.score},
    )  # fmt: skip
    return _response_read(branch, questionnaire, response, actor.username)
