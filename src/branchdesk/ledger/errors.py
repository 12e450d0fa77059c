"""The ledger's domain errors (stable codes the API returns)."""

from __future__ import annotations

from branchdesk.core.errors import Conflict, NotFound, RuleViolation


class AccountNotFound(NotFound):
    code = "account_not_found"


class PostingNotFound(NotFound):
    code = "posting_not_found"


class AccountClosed(RuleViolation):
    code = "account_closed"


class AccountFrozen(Conflict):
    code = "account_frozen"


class AccountDormant(Conflict):
    code = "account_dormant"


class CurrencyMismatch(RuleViolation):
    code = "currency_mismatch"


class InvalidAmount(RuleViolation):
    code = "invalid_amount"


class IdempotencyKeyRequired(RuleViolation):
    code = "idempotency_key_required"


class IdempotencyKeyReused(Conflict):
    """The same key arrived with a different request body."""

    code = "idempotency_key_reused"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class KycIncomplete(RuleViolation):
    code = "kyc_incomplete"


class PostingBlocked(RuleViolation):
    """The compliance check refused the posting; the detail carries its reason."""

    code = "posting_blocked"


class NotPending(Conflict):
    code = "not_pending"


class OwnApproval(Conflict):
    """Maker-checker: the maker of a posting cannot approve or reject it."""

    code = "own_approval"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class InvalidRemittanceState(Conflict):
    code = "invalid_remittance_state"
