"""Deterministic synthetic banks: `branchdesk seed --profile demo|bench --seed N`.

The same profile and seed build the same bank (codes, names, ids, numbers). Demo staff users
exist only in the demo profile; later issues extend the generator with their own steps.
"""

from __future__ import annotations

from branchdesk.seed.generator import (
    DEMO_PASSWORD,
    SeedError,
    SeedSummary,
    demo_logins,
    seed_database,
)

__all__ = ["DEMO_PASSWORD", "SeedError", "SeedSummary", "demo_logins", "seed_database"]
