"""The loans services: products, applications (scoring, decisions), servicing (ledger postings)."""

from branchdesk.loans.service.applications import (
    application_read,
    create_application,
    decide_application,
    get_application,
    list_applications,
)
from branchdesk.loans.service.common import ApplicationNotFound, LoanNotFound, OwnApproval
from branchdesk.loans.service.products import (
    create_product,
    find_product,
    list_products,
    product_read,
    update_product,
)
from branchdesk.loans.service.restructuring import (
    decide_restructuring,
    request_restructuring,
)
from branchdesk.loans.service.servicing import (
    disburse,
    find_loan,
    list_loans,
    loan_read,
    repay,
    run_daily,
)

__all__ = [
    "ApplicationNotFound",
    "LoanNotFound",
    "OwnApproval",
    "application_read",
    "create_application",
    "create_product",
    "decide_application",
    "decide_restructuring",
    "disburse",
    "find_loan",
    "find_product",
    "get_application",
    "list_applications",
    "list_loans",
    "list_products",
    "loan_read",
    "product_read",
    "repay",
    "request_restructuring",
    "run_daily",
    "update_product",
]
