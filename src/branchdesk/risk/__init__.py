"""Risk and compliance: transaction monitoring (AML typologies), KYC, controls, incidents.

Invariant: the batch scan (`branchdesk aml scan`) and the pre-posting hook run the same rules.
"""
