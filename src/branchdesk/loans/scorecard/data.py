"""Reading applicant CSV files, detecting column types, coding the target, fingerprinting.

Every file is read as text and typed here, so training and scoring see a value the same way
whatever pandas would have guessed for one file or another.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from branchdesk.core.errors import RuleViolation

from .binning import IntArray, to_text

ColumnKind = Literal["numeric", "categorical"]


class CreditDataError(RuleViolation):
    """Input data that cannot be used: unreadable file, missing target, a single class."""

    code = "credit_data_invalid"


def read_csv(path: Path) -> pd.DataFrame:
    """All cells as text, empty cells as missing; raises ``CreditDataError``.

    UTF-8 (with or without a byte-order mark); the separator is a comma unless the header
    line holds more semicolons, tabs or pipes.
    """
    if not path.is_file():
        raise CreditDataError(f"cannot read {path}: no such file")
    try:
        with path.open(encoding="utf-8-sig") as stream:
            header = stream.readline()
        # comma unless the header clearly uses another common separator
        separator = max([",", ";", "\t", "|"], key=lambda s: (header.count(s), s == ","))
        frame = pd.read_csv(
            path,
            sep=separator,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise CreditDataError(f"cannot read {path} as CSV: {exc}") from exc
    if frame.shape[1] == 0:
        raise CreditDataError(f"{path} has no columns")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def detect_kinds(frame: pd.DataFrame) -> dict[str, ColumnKind]:
    """Numeric when every present value parses as a finite number, categorical otherwise."""
    kinds: dict[str, ColumnKind] = {}
    for column in frame.columns:
        present = frame[column].dropna()
        present = present[present.astype(str).str.strip() != ""]
        parsed = pd.to_numeric(present, errors="coerce")
        is_numeric = (
            len(present) > 0
            and bool(parsed.notna().all())
            and bool(np.isfinite(parsed.to_numpy(dtype=np.float64)).all())
        )
        kinds[str(column)] = "numeric" if is_numeric else "categorical"
    return kinds


_IDENTIFIER_NAME = re.compile(
    r"^(unnamed: ?\d+|index|row|row ?(id|number)|id|.*[ _.]id|id[ _.].*)$"
)


def identifier_columns(frame: pd.DataFrame) -> list[str]:
    """Columns named like an identifier (``id``, ``customer_id``, ``Unnamed: 0``) whose values
    are all present and all different: a row label, not a characteristic of the applicant."""
    found = []
    for column in frame.columns:
        name = str(column).strip().casefold()
        values = frame[column]
        if (
            _IDENTIFIER_NAME.match(name)
            and len(values) >= 20
            and values.notna().all()
            and values.nunique() == len(values)
        ):
            found.append(str(column))
    return found


def _same_value(cell: str, wanted: str) -> bool:
    if cell == wanted:
        return True
    try:
        a, b = float(cell), float(wanted)
    except ValueError:
        return cell.casefold() == wanted.strip().casefold()
    return math.isfinite(a) and a == b


def code_target(frame: pd.DataFrame, target: str, bad_value: str) -> tuple[pd.DataFrame, IntArray]:
    """Split off the target: features without unlabelled rows, and 1 for bad, 0 for good."""
    if target not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:12]))
        raise CreditDataError(f"target column {target!r} not found; columns are: {shown}")
    labels = to_text(frame[target].tolist())
    keep = np.array([v is not None for v in labels], dtype=bool)
    bad = np.array([1 if v is not None and _same_value(v, bad_value) else 0 for v in labels])
    bad = bad[keep].astype(np.int64)
    n_bad = int(bad.sum())
    if len(bad) == 0 or n_bad == 0 or n_bad == len(bad):
        seen = sorted({v for v in labels if v is not None})[:10]
        raise CreditDataError(
            f"target column {target!r} has a single class: {n_bad} rows equal the bad value "
            f"{bad_value!r} and {len(bad) - n_bad} do not (values seen: {seen}); "
            "a scorecard needs both goods and bads"
        )
    features = frame.loc[keep].drop(columns=[target]).reset_index(drop=True)
    if features.shape[1] == 0:
        raise CreditDataError("no feature columns besides the target")
    return features, bad


def fingerprint(features: pd.DataFrame, bad: IntArray) -> str:
    """sha256 of the normalized training data: sorted columns, stripped text, target last."""
    columns = sorted(map(str, features.columns))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, "__bad__"])
    cells = [to_text(features[c].tolist()) for c in columns]
    for i, label in enumerate(bad.tolist()):
        writer.writerow([*("" if col[i] is None else col[i] for col in cells), label])
    return "sha256:" + hashlib.sha256(buffer.getvalue().encode("utf-8")).hexdigest()
