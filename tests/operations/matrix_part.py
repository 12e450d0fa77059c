"""Operations routes in the role matrix (tests/web/test_role_matrix.py).

Queue managers (lobby manager, branch manager, admin) allocate and absorb offline ticket blocks;
every staff role may list them, open incidents and tick their steps; compliance officers and
admins edit emergency plans; branch managers, compliance and risk officers and admins record loss
events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.operations.models import (
    CsaQuestionnaire,
    CsaResponse,
    Incident,
    IncidentStep,
    OfflineBlock,
)
from tests.factories import NOW
from tests.matrix import ALL, QUEUE_MANAGERS, Case, WorldContext

PLAN_EDITORS = frozenset({Role.compliance_officer, Role.admin})
LOSS_RECORDERS = frozenset(
    {Role.branch_manager, Role.compliance_officer, Role.risk_officer, Role.admin}
)
CSA_SUBMITTERS = frozenset({Role.branch_manager, Role.admin})
PLAN = {
    "title_zh_hant": "火", "title_zh_hans": "火", "title_en": "Fire",
    "steps": [{"zh-Hant": "撤離", "zh-Hans": "撤离", "en": "Evacuate"}],
}  # fmt: skip
LOSS = {
    "kind": "near_miss", "category": "cash", "amount_minor": 0, "currency": "TWD",
    "root_cause": "miscount caught", "occurred_on": "2026-03-02",
}  # fmt: skip

BLOCKS = "/api/v1/branches/HOME/offline-blocks"

CASES = [
    Case("POST", BLOCKS, QUEUE_MANAGERS, json={"service_code": "MATRIX", "size": 5}),
    Case("GET", BLOCKS, ALL),
    Case("POST", BLOCKS + "/{offline_block}/absorb", QUEUE_MANAGERS,
         json={"tickets": [{"number": "M-901", "issued_at": "{offline_when}"}]}),
    Case("GET", "/api/v1/operations/emergency-plans", ALL),
    Case("PUT", "/api/v1/operations/emergency-plans/fire", PLAN_EDITORS, json=PLAN),
    Case("GET", "/api/v1/branches/HOME/incidents", ALL),
    Case("POST", "/api/v1/branches/HOME/incidents", ALL,
         json={"scenario": "robbery", "title": "t"}),
    Case("GET", "/api/v1/incidents/{incident}", ALL),
    Case("POST", "/api/v1/incidents/{incident}/steps/1/tick", ALL),
    Case("POST", "/api/v1/incidents/{incident_ready}/close", ALL, json={"note": "n"}),
    Case("GET", "/api/v1/branches/HOME/loss-events", LOSS_RECORDERS),
    Case("POST", "/api/v1/branches/HOME/loss-events", LOSS_RECORDERS, json=LOSS),
    Case("GET", "/operations/branches/HOME/incidents", ALL, html=True),
    Case("POST", "/operations/branches/HOME/incidents", ALL, html=True,
         form={"scenario": "fire", "title": "smoke"}),
    Case("GET", "/operations/incidents/{incident}", ALL, html=True),
    Case("POST", "/operations/incidents/{incident}/steps/1/tick", ALL, html=True, form={}),
    Case("POST", "/operations/incidents/{incident_ready}/close", ALL, html=True,
         form={"note": "n"}),
    Case("GET", "/api/v1/operations/csa-questionnaires", LOSS_RECORDERS),
    Case("POST", "/api/v1/operations/csa-questionnaires", PLAN_EDITORS,
         json={"code": "MXNEWQ", "title_zh_hant": "問", "title_zh_hans": "问", "title_en": "Q",
               "questions": PLAN["steps"]}),
    Case("GET", "/api/v1/branches/HOME/csa-responses", LOSS_RECORDERS),
    Case("POST", "/api/v1/branches/HOME/csa-responses", CSA_SUBMITTERS,
         json={"questionnaire_code": "MXCSA", "period": "2026-Q3", "answers": ["yes"]}),
    Case("GET", "/operations/branches/HOME/loss-events", LOSS_RECORDERS, html=True),
    Case("POST", "/operations/branches/HOME/loss-events", LOSS_RECORDERS, html=True,
         form={"kind": "loss", "category": "cash", "amount": "12.50", "currency": "TWD",
               "root_cause": "miscount", "occurred_on": "2026-03-02"}),
    Case("GET", "/operations/branches/HOME/self-assessments", LOSS_RECORDERS, html=True),
    Case("POST", "/operations/branches/HOME/self-assessments", CSA_SUBMITTERS, html=True,
         form={"questionnaire_code": "MXCSA", "period": "2026-Q2", "answer_1": "partial"}),
    Case("POST", "/operations/self-assessments/{csa_response}/review", PLAN_EDITORS, html=True,
         form={"note": "evidence checked"}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    block = OfflineBlock(
        id=new_id(), branch_id=ctx.home.id, service_type_id=ctx.service.id,
        business_on=business_day(ctx.home, now), prefix=ctx.service.ticket_prefix,
        first_seq=900, last_seq=949, created_by_id=None, created_at=NOW,
    )  # fmt: skip
    db.add(block)
    questionnaire = CsaQuestionnaire(
        code="MXCSA", title_zh_hant="問", title_zh_hans="问", title_en="Q",
        questions=[{"zh-Hant": "a", "zh-Hans": "a", "en": "a"}], created_at=NOW,
    )  # fmt: skip
    db.add(questionnaire)
    db.flush()
    response = CsaResponse(
        questionnaire_id=questionnaire.id, branch_id=ctx.home.id, period="2026-Q1",
        answers=["no"], score=0, comment="", submitted_by_id=None, submitted_at=NOW,
    )  # fmt: skip
    db.add(response)
    found: dict[str, str] = {}
    for name, ticked in (("incident", None), ("incident_ready", NOW)):
        incident = Incident(
            id=new_id(), branch_id=ctx.home.id, scenario="robbery", title="t", description="",
            status="open", plan_version=1, opened_by_id=None, opened_at=NOW, closed_by_id=None,
            closed_at=None, closing_note="",
        )  # fmt: skip
        db.add(incident)
        db.flush()
        db.add(
            IncidentStep(
                incident_id=incident.id, position=1, text_zh_hant="a", text_zh_hans="a",
                text_en="a", ticked_by_id=None, ticked_at=ticked,
            )
        )  # fmt: skip
        found[name] = str(incident.id)
    db.flush()
    return {
        **found,
        "offline_block": str(block.id),
        "csa_response": str(response.id),
        "offline_when": now.isoformat(),
    }
