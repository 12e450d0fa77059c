"""Transaction monitoring: AML typologies and PBOC large-value reports.

Owns the rule configuration (`config`), the strict export reader (`io`), one detector per
typology (`typologies`, `cycle`, `reports`), the batch scan (`scan`), the pre-posting hook
(`hook`) and a labelled synthetic export generator for evaluation (`synth`, `evaluate`).

Invariants: the batch scan and the pre-posting hook run the same detectors; money decisions use
integer minor units or exact fractions, never floats; report-only typologies (`large_cash`,
`cross_border`) are filed, not treated as suspicion. Called by `branchdesk aml scan|generate|
evaluate` and, through `hook.check_posting`, by the ledger before a posting commits.
"""
