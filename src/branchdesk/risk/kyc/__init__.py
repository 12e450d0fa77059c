"""KYC: know-your-customer checks as pure functions over plain dataclasses.

Owns name matching across scripts (`names`: Traditional/Simplified characters, pinyin,
Wade-Giles, Hong Kong Cantonese romanisation, Latin spellings), watch-list screening with
blocking for batch re-screens (`watchlist`), customer risk rating by explainable rules
(`rating`), missing-information and ID-expiry checks (`completeness`) and what an account with
expired KYC may still do (`restrictions`). The strict CSV readers live in `io`.

Invariants: nothing here touches a database or the clock: callers pass `today` as a `date`;
every decision comes with reasons in words. Called by `branchdesk kyc screen|rate` and, later,
by the customers and ledger services (onboarding screening, the pre-posting restriction check).
"""
