"""The loyalty programme's rules: earning, the points ledger, FIFO consumption, expiry, tiers,
rewards, redemptions and maker-checker adjustments. The only code that writes loyalty tables.

Every change of a balance goes through ``ledger._credit`` / ``ledger._debit`` (one SQL UPDATE
each, the debit guarded by ``balance >= points``), which also locks the customer's account row on
PostgreSQL, so the FIFO allocation that follows sees no concurrent consumer.
"""

from branchdesk.loyalty.service.adjustments import (
    decide_adjustment,
    list_adjustments,
    request_adjustment,
)
from branchdesk.loyalty.service.catalogue import (
    create_reward,
    create_rule,
    list_rewards,
    list_rules,
    redeem,
    update_reward,
    update_rule,
)
from branchdesk.loyalty.service.earning import earn_from_sources, expire_due
from branchdesk.loyalty.service.ledger import (
    AlreadyDecided,
    IdempotencyKeyReused,
    InsufficientPoints,
    OutOfStock,
    OwnAdjustment,
    RewardUnavailable,
    balance,
)
from branchdesk.loyalty.service.tiers import (
    customer_ids_with_accounts,
    customer_summary,
    evaluate_tiers,
    summary,
    window_points,
)

__all__ = [
    "AlreadyDecided",
    "IdempotencyKeyReused",
    "InsufficientPoints",
    "OutOfStock",
    "OwnAdjustment",
    "RewardUnavailable",
    "balance",
    "create_reward",
    "create_rule",
    "customer_ids_with_accounts",
    "customer_summary",
    "decide_adjustment",
    "earn_from_sources",
    "evaluate_tiers",
    "expire_due",
    "list_adjustments",
    "list_rewards",
    "list_rules",
    "redeem",
    "request_adjustment",
    "summary",
    "update_reward",
    "update_rule",
    "window_points",
]
