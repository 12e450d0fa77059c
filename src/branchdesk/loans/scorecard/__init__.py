"""Credit scorecard lifecycle: WOE binning, logistic regression, points, artifacts, monitoring.

Owns the application scorecard used by ``branchdesk credit``: training from any CSV of applicant
characteristics into a versioned artifact directory, scoring applicants with reasons, out-of-time
stability (PSI, CSI) against the development sample and champion/challenger comparison. The
model is pure numpy/pandas plus scikit-learn's logistic regression; nothing is fetched at run time.
"""
