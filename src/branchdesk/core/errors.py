"""Domain errors. Services raise these; one handler renders them for JSON and HTML routes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected business outcome that is not a success."""

    code: str = "domain_error"
    status_code: int = 400

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Unauthorized(DomainError):
    code = "unauthorized"
    status_code = 401


class Forbidden(DomainError):
    code = "forbidden"
    status_code = 403


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class RuleViolation(DomainError):
    code = "rule_violation"
    status_code = 422
