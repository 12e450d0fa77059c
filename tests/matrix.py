"""Shared vocabulary of the role matrix (tests/web/test_role_matrix.py).

A domain package adds its routes to the matrix with a module ``tests/<package>/matrix_part.py``
listed in ``PART_MODULES`` of the matrix test. The module defines:

- ``CASES: list[Case]``: its routes with the roles that may use them;
- ``def world(db, signer, ctx: WorldContext) -> dict[str, str]``: rows its cases need, returning
  placeholder values for the case paths and bodies (``{name}``);
- optionally ``OWN_ACCESS: tuple[str, ...]``: path prefixes of routes that are not for staff roles
  (e.g. the customer portal) and whose access rules are proven by the package's own tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role

ALL = frozenset(Role)
ADMIN = frozenset({Role.admin})
SUPERVISORS = frozenset({Role.admin, Role.branch_manager})
USER_VIEWERS = frozenset({Role.admin, Role.branch_manager})
AUDITORS = frozenset({Role.admin, Role.compliance_officer})
CUSTOMER_VIEWERS = ALL - {Role.quality_officer}
SERVERS = frozenset({Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin})
QUEUE_MANAGERS = frozenset({Role.lobby_manager, Role.branch_manager, Role.admin})
CUSTOMER_EDITORS = frozenset(
    {Role.teller, Role.relationship_manager, Role.branch_manager, Role.admin}
)
PUBLIC = None  # no login needed


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: frozenset[Role] | None
    json: Any = None
    form: dict[str, Any] | None = None
    html: bool = False
    ok: tuple[int, ...] = (200, 201, 204, 303)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorldContext:
    """What the core world already made: the home branch (code HOME, counters K1/K2), its
    service (code MATRIX), a teller colleague, a customer, and the acting user of the role."""

    home: Branch
    service: ServiceType
    colleague: User
    customer: Customer
    actor: User
