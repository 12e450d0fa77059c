"""Compliance checks: scheduled checklists per branch, findings and the violations register
(severity, owner, remediation deadline, disciplinary outcome), trend report."""
