"""Credit scorecard lifecycle: WOE binning, logistic regression, points, artifacts, monitoring.

Owns the application scorecard behind ``branchdesk credit``:

* ``binning``: weight-of-evidence bins per characteristic (monotonic where it makes sense,
  a dedicated missing bin, unseen categories scored conservatively).
* ``model``: selection by IV and correlation, L2 logistic regression with the penalty chosen by
  cross-validation on the training data only, points scaling (base score, base odds, PDO),
  scoring with reasons in words.
* ``artifact``: the versioned model directory (``model.json`` + ``metadata.json``).
* ``evaluation`` / ``metrics``: out-of-fold and fixed-split AUC, KS, Gini; DeLong's test.
* ``stability``: PSI of the score and CSI per characteristic against the development sample.
* ``compare``: champion/challenger on the same labelled rows.
* ``lifecycle``: the file-level steps the CLI calls; ``synth``: labelled synthetic applicants.

Invariants: scoring returns exactly one row per input row, in input order, and never fails on
missing values, unseen categories or absent columns; score and probability are the same log-odds
(``score = offset + factor * ln(odds good:bad)``); every file or directory is written atomically
and only after the whole input was validated. Nothing is fetched at run time: the model is
numpy/pandas plus scikit-learn's logistic regression and decision tree.

Called by ``branchdesk.loans.cli`` (``credit_app``); a service may load an artifact with
``artifact.load_scorecard`` and call ``Scorecard.score`` on a one-row frame.
"""
