"""Control self-assessment: questionnaires, answers per branch and period, scores."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.operations import assessments
from branchdesk.operations.models import CsaResponse
from branchdesk.operations.schemas import CsaQuestionnaireCreate, CsaResponseCreate, PlanStep
from tests.factories import NOW, make_branch, make_user
from tests.factories import principal as principal_of


def _count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


def _q(text: str) -> PlanStep:
    return PlanStep.model_validate({"zh-Hant": text, "zh-Hans": text, "en": text})


def test_score() -> None:
    assert assessments.score(["yes", "yes"]) == 100
    assert assessments.score(["yes", "partial", "no"]) == 50
    assert assessments.score(["partial", "no", "no"]) == 16
    assert assessments.score([]) == 0


def test_answer_once_per_period_with_refusals(db: Session) -> None:
    branch = make_branch(db)
    officer = principal_of(db, make_user(db, Role.compliance_officer))
    manager = principal_of(db, make_user(db, Role.branch_manager, (branch,)))
    outsider = principal_of(db, make_user(db, Role.branch_manager, (make_branch(db),)))
    assessments.create_questionnaire(
        db,
        body=CsaQuestionnaireCreate(code="dual", title_zh_hant="雙人", title_zh_hans="双人",
                                    title_en="Dual control", questions=[_q("a"), _q("b")]),
        actor=officer, now=NOW,
    )  # fmt: skip
    body = CsaResponseCreate(
        questionnaire_code="DUAL", period="2026-Q1", answers=["yes", "partial"]
    )  # type: ignore[list-item]
    made = assessments.submit_response(db, branch=branch, body=body, actor=manager, now=NOW)
    assert (made.score, made.period, made.answers) == (75, "2026-Q1", ["yes", "partial"])
    before = (_count(db, CsaResponse), _count(db, AuditEntry))
    with pytest.raises(Conflict):
        assessments.submit_response(db, branch=branch, body=body, actor=manager, now=NOW)
    with pytest.raises(RuleViolation) as count:
        assessments.submit_response(
            db, branch=branch, body=body.model_copy(update={"answers": ["yes"], "period": "2026-Q2"}),
            actor=manager, now=NOW,
        )  # fmt: skip
    assert count.value.field == "answers"
    with pytest.raises(Forbidden):
        assessments.submit_response(
            db, branch=branch, body=body.model_copy(update={"period": "2026-Q3"}),
            actor=outsider, now=NOW,
        )  # fmt: skip
    assert (_count(db, CsaResponse), _count(db, AuditEntry)) == before
    listed = assessments.list_responses(db, branch=branch, actor=officer)
    assert [(r.questionnaire_code, r.score) for r in listed] == [("DUAL", 75)]
