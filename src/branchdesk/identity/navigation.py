"""The staff work areas shown in the header and on the home page, filtered by the permission
table (identity/roles.py): a link appears exactly when the role may open the page behind it."""

from __future__ import annotations

from dataclasses import dataclass

from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission


@dataclass(frozen=True, slots=True)
class WorkArea:
    label: str  # English msgid, translated in the template
    href: str
    permission: Permission


WORK_AREAS: tuple[WorkArea, ...] = (
    WorkArea("Teller console", "/console", Permission.queue_serve),
    WorkArea("Approvals", "/approvals", Permission.posting_approve),
    WorkArea("Loans", "/loans", Permission.loan_view),
    WorkArea("Loyalty programme", "/loyalty", Permission.loyalty_adjust),
    WorkArea("Care worklist", "/care/worklist", Permission.customer_manage),
    WorkArea("Campaigns", "/care/campaigns", Permission.campaign_manage),
    WorkArea("Education library", "/care/education", Permission.education_manage),
    WorkArea("Complaints", "/complaints", Permission.complaint_view),
    WorkArea("Service quality", "/quality", Permission.quality_view),
    WorkArea("Customer surveys", "/quality/surveys", Permission.feedback_view),
    WorkArea("Social media", "/social", Permission.social_view),
    WorkArea("AML cases", "/risk/cases", Permission.aml_view),
    WorkArea("Compliance checks", "/compliance/violations", Permission.compliance_view),
    WorkArea("Courses and certifications", "/training/courses", Permission.training_view),
    WorkArea("Staff", "/admin/users", Permission.user_view),
    WorkArea("Audit trail", "/admin/audit", Permission.audit_view),
)


# Pages of one branch, linked per branch on the home page.
BRANCH_AREAS: tuple[WorkArea, ...] = (
    WorkArea("Incidents", "/operations/branches/{code}/incidents", Permission.incident_handle),
    WorkArea("Staff training", "/training/branches/{code}", Permission.training_view),
    WorkArea(
        "Loss events and near misses",
        "/operations/branches/{code}/loss-events",
        Permission.loss_event_manage,
    ),
    WorkArea(
        "Control self-assessment",
        "/operations/branches/{code}/self-assessments",
        Permission.control_assessment_view,
    ),
)


def branch_areas(principal: Principal | None) -> list[WorkArea]:
    if principal is None:
        return []
    return [area for area in BRANCH_AREAS if principal.can(area.permission)]


def work_areas(principal: Principal | None) -> list[WorkArea]:
    """The areas this user may open (none for an anonymous visitor)."""
    if principal is None:
        return []
    return [area for area in WORK_AREAS if principal.can(area.permission)]
