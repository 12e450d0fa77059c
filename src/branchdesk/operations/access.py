"""Who may act on a branch's operational-risk records (incidents, loss events, self-assessments):
the branch's own staff, and the oversight roles for every branch."""

from __future__ import annotations

import uuid

from branchdesk.core.errors import Forbidden
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission, Role

BANK_WIDE = frozenset({Role.compliance_officer, Role.risk_officer, Role.admin})


def require_branch(actor: Principal, permission: Permission, branch_id: uuid.UUID) -> None:
    """Raises Forbidden without ``permission`` or for a branch outside the actor's assignment
    (the BANK_WIDE roles see every branch)."""
    actor.require(permission)
    if not (actor.role in BANK_WIDE or actor.sees_branch(branch_id)):
        raise Forbidden("this branch is outside your assignment")
