"""The ledger's services: accounts, the posting engine and its movements, approvals."""

from branchdesk.ledger.service.accounts import (
    change_account_status,
    get_account,
    list_entries,
    open_account,
)
from branchdesk.ledger.service.approvals import (
    approve_posting,
    get_posting,
    list_pending,
    record_clearing_result,
    reject_posting,
    reverse_posting,
    set_approval_limit,
)
from branchdesk.ledger.service.common import account_read, posting_read
from branchdesk.ledger.service.compliance import (
    AllowAll,
    AmlCheck,
    ComplianceDecision,
    FixedDecision,
    PrePostingCheck,
    ProposedPosting,
    Verdict,
)
from branchdesk.ledger.service.posting import (
    PostingResult,
    post_deposit,
    post_fee,
    post_remittance,
    post_transfer,
    post_transfer_batch,
    post_withdrawal,
    withdraw_time_deposit,
)

__all__ = [
    "AllowAll",
    "AmlCheck",
    "ComplianceDecision",
    "FixedDecision",
    "PostingResult",
    "PrePostingCheck",
    "ProposedPosting",
    "Verdict",
    "account_read",
    "approve_posting",
    "change_account_status",
    "get_account",
    "get_posting",
    "list_entries",
    "list_pending",
    "open_account",
    "post_deposit",
    "post_fee",
    "post_remittance",
    "post_transfer",
    "post_transfer_batch",
    "post_withdrawal",
    "posting_read",
    "record_clearing_result",
    "reject_posting",
    "reverse_posting",
    "set_approval_limit",
    "withdraw_time_deposit",
]
