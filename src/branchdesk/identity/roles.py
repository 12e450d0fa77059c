"""Staff roles and what each may do: the one table of permissions (see ``Principal.require``)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    teller = "teller"
    lobby_manager = "lobby_manager"
    relationship_manager = "relationship_manager"
    branch_manager = "branch_manager"
    quality_officer = "quality_officer"
    risk_officer = "risk_officer"
    compliance_officer = "compliance_officer"
    admin = "admin"


class Permission(StrEnum):
    catalog_view = "catalog.view"
    branch_create = "branch.create"
    branch_update = "branch.update"
    counter_manage = "counter.manage"
    branch_service_manage = "branch_service.manage"
    service_type_manage = "service_type.manage"
    user_view = "user.view"
    user_manage = "user.manage"
    audit_view = "audit.view"
    customer_view = "customer.view"
    customer_manage = "customer.manage"
    queue_view = "queue.view"
    queue_issue = "queue.issue"
    queue_serve = "queue.serve"
    queue_manage = "queue.manage"
    account_view = "account.view"
    account_open = "account.open"
    account_manage = "account.manage"
    posting_create = "posting.create"
    posting_approve = "posting.approve"
    posting_review = "posting.review"
    clearing_manage = "clearing.manage"
    approval_limit_manage = "approval_limit.manage"
    loan_view = "loan.view"
    loan_create = "loan.create"
    loan_approve = "loan.approve"
    loan_product_manage = "loan_product.manage"
    loan_portfolio_view = "loan_portfolio.view"
    loan_alert_handle = "loan_alert.handle"
    complaint_view = "complaint.view"
    complaint_handle = "complaint.handle"
    complaint_approve_extension = "complaint.approve_extension"
    complaint_improve = "complaint.improve"
    feedback_view = "feedback.view"
    aml_view = "aml.view"
    aml_manage = "aml.manage"
    quality_view = "quality.view"
    quality_manage = "quality.manage"
    training_view = "training.view"
    training_manage = "training.manage"
    training_record = "training.record"
    compliance_view = "compliance.view"
    compliance_manage = "compliance.manage"
    incident_handle = "incident.handle"
    emergency_plan_manage = "emergency_plan.manage"
    loss_event_manage = "loss_event.manage"
    control_assessment_view = "control_assessment.view"
    control_assessment_manage = "control_assessment.manage"
    control_assessment_submit = "control_assessment.submit"
    social_view = "social.view"
    social_draft = "social.draft"
    social_approve = "social.approve"
    loyalty_redeem = "loyalty.redeem"
    loyalty_adjust = "loyalty.adjust"
    loyalty_approve = "loyalty.approve"
    loyalty_manage = "loyalty.manage"
    customer_assign_manager = "customer.assign_manager"
    risk_assessment_record = "risk_assessment.record"
    campaign_manage = "campaign.manage"
    campaign_approve = "campaign.approve"
    education_manage = "education.manage"


ALL_STAFF = frozenset(Role)
SUPERVISORS = frozenset({Role.branch_manager, Role.admin})

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.catalog_view: ALL_STAFF,
    Permission.branch_create: frozenset({Role.admin}),
    Permission.branch_update: SUPERVISORS,
    Permission.counter_manage: SUPERVISORS,
    Permission.branch_service_manage: SUPERVISORS,
    Permission.service_type_manage: frozenset({Role.admin}),
    Permission.user_view: frozenset({Role.admin, Role.branch_manager}),
    Permission.user_manage: frozenset({Role.admin}),
    Permission.audit_view: frozenset({Role.admin, Role.compliance_officer}),
    Permission.customer_view: frozenset(
        {
            Role.teller,
            Role.lobby_manager,
            Role.relationship_manager,
            Role.branch_manager,
            Role.risk_officer,
            Role.compliance_officer,
            Role.admin,
        }
    ),
    Permission.customer_manage: frozenset(
        {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
    ),
    Permission.queue_view: ALL_STAFF,
    Permission.queue_issue: ALL_STAFF,
    Permission.queue_serve: frozenset(
        {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
    ),
    Permission.queue_manage: frozenset({Role.lobby_manager, Role.branch_manager, Role.admin}),
    Permission.account_view: frozenset(
        {
            Role.teller,
            Role.lobby_manager,
            Role.relationship_manager,
            Role.branch_manager,
            Role.risk_officer,
            Role.compliance_officer,
            Role.admin,
        }
    ),
    Permission.account_open: frozenset(
        {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
    ),
    Permission.account_manage: SUPERVISORS,
    Permission.posting_create: frozenset(
        {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
    ),
    Permission.posting_approve: SUPERVISORS,
    Permission.posting_review: frozenset({Role.compliance_officer, Role.admin}),
    Permission.clearing_manage: SUPERVISORS,
    Permission.approval_limit_manage: SUPERVISORS,
    Permission.loan_view: SUPERVISORS | {Role.teller, Role.relationship_manager, Role.risk_officer},
    Permission.loan_create: SUPERVISORS | {Role.teller, Role.relationship_manager},
    Permission.loan_approve: SUPERVISORS,
    Permission.loan_product_manage: frozenset({Role.admin}),
    Permission.loan_portfolio_view: SUPERVISORS | {Role.risk_officer},
    Permission.loan_alert_handle: SUPERVISORS | {Role.risk_officer},
    Permission.complaint_view: frozenset(Role) - {Role.risk_officer},
    Permission.complaint_handle: frozenset(
        {
            Role.teller,
            Role.lobby_manager,
            Role.relationship_manager,
            Role.branch_manager,
            Role.quality_officer,
            Role.admin,
        }
    ),
    Permission.complaint_approve_extension: SUPERVISORS,
    Permission.complaint_improve: frozenset(
        {Role.branch_manager, Role.quality_officer, Role.admin}
    ),
    Permission.feedback_view: frozenset({Role.quality_officer, Role.branch_manager, Role.admin}),
    Permission.aml_view: frozenset({Role.compliance_officer, Role.risk_officer, Role.admin}),
    Permission.aml_manage: frozenset({Role.compliance_officer, Role.admin}),
    Permission.quality_view: frozenset({Role.quality_officer, Role.branch_manager, Role.admin}),
    Permission.quality_manage: frozenset({Role.quality_officer, Role.admin}),
    Permission.training_view: frozenset({Role.branch_manager, Role.compliance_officer, Role.admin}),
    Permission.training_manage: frozenset({Role.compliance_officer, Role.admin}),
    Permission.training_record: frozenset(
        {Role.branch_manager, Role.compliance_officer, Role.admin}
    ),
    Permission.compliance_view: frozenset(
        {Role.branch_manager, Role.compliance_officer, Role.admin}
    ),
    Permission.compliance_manage: frozenset({Role.compliance_officer, Role.admin}),
    Permission.incident_handle: ALL_STAFF,
    Permission.emergency_plan_manage: frozenset({Role.compliance_officer, Role.admin}),
    Permission.loss_event_manage: frozenset(
        {Role.branch_manager, Role.compliance_officer, Role.risk_officer, Role.admin}
    ),
    Permission.control_assessment_view: frozenset(
        {Role.branch_manager, Role.compliance_officer, Role.risk_officer, Role.admin}
    ),
    Permission.control_assessment_manage: frozenset({Role.compliance_officer, Role.admin}),
    Permission.control_assessment_submit: frozenset({Role.branch_manager, Role.admin}),
    # Marketing sits with relationship managers and quality; a branch manager approves posts.
    Permission.social_view: SUPERVISORS | {Role.relationship_manager, Role.quality_officer},
    Permission.social_draft: SUPERVISORS | {Role.relationship_manager, Role.quality_officer},
    Permission.social_approve: SUPERVISORS,
    Permission.loyalty_redeem: frozenset(
        {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
    ),
    Permission.loyalty_adjust: SUPERVISORS | {Role.relationship_manager},
    Permission.loyalty_approve: SUPERVISORS,
    Permission.loyalty_manage: frozenset({Role.admin}),
    # care: who looks after a customer, suitability, campaigns (maker-checker) and education
    Permission.customer_assign_manager: SUPERVISORS,
    Permission.risk_assessment_record: SUPERVISORS | {Role.relationship_manager},
    Permission.campaign_manage: SUPERVISORS | {Role.relationship_manager},
    Permission.campaign_approve: SUPERVISORS,
    Permission.education_manage: SUPERVISORS | {Role.quality_officer},
}

# Roles whose scope is the whole bank rather than their own branches.
BANK_WIDE_ROLES = frozenset({Role.admin})
