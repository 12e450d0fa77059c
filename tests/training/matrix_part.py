"""Training routes in the role matrix (tests/web/test_role_matrix.py).

Compliance officers and admins manage courses and certifications; branch managers, compliance
officers and admins record completions, grant certifications and see the overdue list and the
skills matrix; every staff role may see what a counter serves."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.training.models import Certification, Course
from tests.factories import NOW
from tests.matrix import ALL, Case, WorldContext

TRAINING_VIEWERS = frozenset({Role.branch_manager, Role.compliance_officer, Role.admin})
TRAINING_MANAGERS = frozenset({Role.compliance_officer, Role.admin})
TRAINING_RECORDERS = TRAINING_VIEWERS

COURSE = {
    "code": "MXNEW", "category": "anti_fraud", "title_zh_hant": "防詐", "title_zh_hans": "防诈",
    "title_en": "Anti-fraud", "pass_mark": 60, "is_annual": False,
}  # fmt: skip
CERTIFICATION = {
    "code": "MXNEWC", "name_zh_hant": "證照", "name_zh_hans": "证照", "name_en": "Cert",
    "service_code": None, "validity_months": 24,
}  # fmt: skip

CASES = [
    Case("GET", "/api/v1/training/courses", TRAINING_VIEWERS),
    Case("POST", "/api/v1/training/courses", TRAINING_MANAGERS, json=COURSE),
    Case("POST", "/api/v1/training/assignments", TRAINING_MANAGERS,
         json={"course_code": "MXTRN", "role": "teller", "due_on": "2026-12-31"}),
    Case("POST", "/api/v1/training/completions", TRAINING_RECORDERS,
         json={"course_code": "MXTRN", "username": "{colleague}", "score": 88}),
    Case("POST", "/api/v1/training/certifications", TRAINING_MANAGERS, json=CERTIFICATION),
    Case("POST", "/api/v1/training/staff-certifications", TRAINING_RECORDERS,
         json={"username": "{colleague}", "certification_code": "MXCERT",
               "issued_on": "2026-01-05"}),
    Case("GET", "/api/v1/branches/HOME/training/overdue", TRAINING_VIEWERS),
    Case("GET", "/api/v1/branches/HOME/training/skills-matrix", TRAINING_VIEWERS),
    Case("GET", "/api/v1/branches/HOME/counters/K1/certified-services", ALL),
    Case("GET", "/training/branches/HOME", TRAINING_VIEWERS, html=True),
    Case("GET", "/training/courses", TRAINING_VIEWERS, html=True),
    Case("POST", "/training/courses", TRAINING_MANAGERS, html=True,
         form={**{k: str(v) for k, v in COURSE.items() if k != "is_annual"}, "is_annual": "on"}),
    Case("POST", "/training/assignments", TRAINING_MANAGERS, html=True,
         form={"course_code": "MXTRN", "role": "teller", "due_on": "2026-12-31"}),
    Case("POST", "/training/completions", TRAINING_RECORDERS, html=True,
         form={"course_code": "MXTRN", "username": "{colleague}", "score": "88"}),
    Case("POST", "/training/certifications", TRAINING_MANAGERS, html=True,
         form={k: str(v) for k, v in CERTIFICATION.items() if v is not None}),
    Case("POST", "/training/staff-certifications", TRAINING_RECORDERS, html=True,
         form={"username": "{colleague}", "certification_code": "MXCERT",
               "issued_on": "2026-01-05"}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    db.add(
        Course(
            code="MXTRN", category="compliance", title_zh_hant="合規", title_zh_hans="合规",
            title_en="Compliance", pass_mark=70, is_annual=True, created_at=NOW,
        )
    )  # fmt: skip
    db.add(
        Certification(
            code="MXCERT", name_zh_hant="匯兌", name_zh_hans="汇兑", name_en="FX",
            service_type_id=ctx.service.id, validity_months=12, created_at=NOW,
        )
    )  # fmt: skip
    db.flush()
    return {}
