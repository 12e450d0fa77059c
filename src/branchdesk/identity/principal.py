"""The acting staff user as plain values, and the one place that decides who may do what where."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from branchdesk.core.errors import Forbidden
from branchdesk.identity.roles import BANK_WIDE_ROLES, PERMISSIONS, Permission, Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    username: str
    display_name: str
    role: Role
    branch_ids: frozenset[uuid.UUID]
    preferred_locale: str | None = None

    @property
    def is_bank_wide(self) -> bool:
        return self.role in BANK_WIDE_ROLES

    @property
    def label(self) -> str:
        return f"{self.username} ({self.role})"

    def can(self, permission: Permission, branch_id: uuid.UUID | None = None) -> bool:
        if self.role not in PERMISSIONS[permission]:
            return False
        return branch_id is None or self.sees_branch(branch_id)

    def sees_branch(self, branch_id: uuid.UUID) -> bool:
        return self.is_bank_wide or branch_id in self.branch_ids

    def require(self, permission: Permission, branch_id: uuid.UUID | None = None) -> None:
        """Raise ``Forbidden`` unless the role has the permission in that branch."""
        if self.role not in PERMISSIONS[permission]:
            raise Forbidden(f"the {self.role} role may not do this ({permission})")
        if branch_id is not None and not self.sees_branch(branch_id):
            raise Forbidden("this branch is outside your assignment")
