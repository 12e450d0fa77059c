"""Suitable next-best-product recommendations (issue 6, item 4).

Owns: strict CSV input (:mod:`.io`), the hard eligibility rules (:mod:`.rules`, with
``RULE_VERSION``), features and the propensity model learned from past adoptions
(:mod:`.features`, :mod:`.model`), the popularity baseline (:mod:`.popularity`), a synthetic
bank for evaluation (:mod:`.synth`) and MAP@k evaluation (:mod:`.evaluate`).

Invariant: no recommendation ever breaks a hard rule (unsuitable risk, expired assessment,
assets below minimum, product already held at as-of, no consent), whatever the model says.
Called by ``branchdesk recommend batch|generate|evaluate`` (:mod:`branchdesk.analytics.cli`).
"""
