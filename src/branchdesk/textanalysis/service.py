"""Classifying text with the cached model, and keeping the corrections people make.

The model is trained at first use from the shipped examples (``data/train.csv``) plus the
stored corrections, or loaded from an artifact when ``BRANCHDESK_TEXTANALYSIS_MODEL`` names a
directory written by ``branchdesk textanalysis train --out DIR`` (used only while its data
fingerprint matches the shipped examples and stored corrections). It stays cached in memory.
When ``classify`` gets a session it checks the corrections table and retrains if it changed;
a correction committed in this process is also learnt by a background retrain, so callers
without a session (complaint intake) pick it up without waiting.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from branchdesk.core.clock import ensure_utc
from branchdesk.core.errors import RuleViolation
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User
from branchdesk.textanalysis.labels import FIELDS
from branchdesk.textanalysis.model import (
    ArtifactError,
    Classification,
    CorrectionExample,
    TextModel,
    fingerprint,
    load_artifact,
    load_examples,
    train,
)
from branchdesk.textanalysis.models import TextCorrection
from branchdesk.textanalysis.normalize import detect_language, text_hash

log = logging.getLogger(__name__)

MODEL_ENV = "BRANCHDESK_TEXTANALYSIS_MODEL"
MAX_TEXT = 4000


@dataclass(frozen=True)
class _CorrectionsState:
    count: int
    latest: datetime | None


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: TextModel | None = None
        self.state: _CorrectionsState | None = None  # corrections the model was trained with
        # what the model learnt, and corrections committed since (learnt in the background)
        self.learnt: list[CorrectionExample] = []
        self.learnt_latest: datetime | None = None
        self.pending: list[tuple[CorrectionExample, datetime]] = []
        self.worker: threading.Thread | None = None


_cache = _Cache()


def _corrections_state(db: Session) -> _CorrectionsState:
    count, latest = db.execute(
        select(func.count(TextCorrection.id), func.max(TextCorrection.created_at))
    ).one()
    return _CorrectionsState(int(count), ensure_utc(latest) if latest is not None else None)


def _stored_corrections(db: Session) -> list[TextCorrection]:
    return list(db.scalars(select(TextCorrection).order_by(TextCorrection.id)).all())


def list_correction_examples(db: Session) -> list[CorrectionExample]:
    """Every stored correction, oldest first (ids are time-ordered UUIDv7)."""
    return [
        CorrectionExample(row.text, row.field, row.corrected) for row in _stored_corrections(db)
    ]


def _configured_artifact(corrections: list[CorrectionExample] | None) -> TextModel | None:
    """The artifact named by the environment, if it was trained on these corrections."""
    location = os.environ.get(MODEL_ENV, "").strip()
    if not location:
        return None
    try:
        model = load_artifact(Path(location))
    except ArtifactError as error:
        log.warning("text model artifact not used, training instead: %s", error)
        return None
    if corrections is not None:
        expected = fingerprint(load_examples("train.csv"), corrections)
        if model.data_fingerprint != expected:
            log.info("text model artifact predates the stored corrections: retraining")
            return None
    return model


def train_model(db: Session | None = None) -> TextModel:
    """A fresh model from the shipped examples plus the stored corrections (when a session)."""
    corrections = list_correction_examples(db) if db is not None else []
    return train(load_examples("train.csv"), corrections)


def get_model(db: Session | None = None) -> TextModel:
    """The cached model; (re)built when absent or when the corrections table changed.

    Without a session the cached model is used as it is (built from the shipped examples, or
    the configured artifact, at first use); corrections committed in this process are learnt
    by a background retrain that swaps the new model in when it is ready.
    """
    with _cache.lock:
        state = _corrections_state(db) if db is not None else None
        if _cache.model is not None and (state is None or state == _cache.state):
            return _cache.model
        rows = _stored_corrections(db) if db is not None else []
        corrections = [CorrectionExample(r.text, r.field, r.corrected) for r in rows]
        model = None
        if _cache.model is None:
            model = _configured_artifact(corrections if db is not None else None)
        if model is None:
            model = train(load_examples("train.csv"), corrections)
        _cache.model = model
        _cache.state = state if state is not None else _CorrectionsState(0, None)
        _cache.learnt = corrections
        _cache.learnt_latest = state.latest if state is not None else None
        return model


def warm_up() -> threading.Thread:
    """Build the cached model in a background thread (app start-up), so no request trains it."""
    thread = threading.Thread(target=_warm, name="textanalysis-warm-up", daemon=True)
    thread.start()
    return thread


def _warm() -> None:
    try:
        get_model()
    except Exception:  # a failed warm-up leaves training to the first use
        log.exception("text model warm-up failed")


def refresh_model(db: Session) -> TextModel:
    """Retrain now if the corrections table changed since the cached model (jobs, start-up)."""
    return get_model(db)


def reset_model_cache() -> None:
    """Forget the cached model (tests; after replacing the configured artifact)."""
    with _cache.lock:
        _cache.model = None
        _cache.state = None
        _cache.learnt = []
        _cache.learnt_latest = None
        _cache.pending = []


def _retrain_in_background() -> None:
    while True:
        with _cache.lock:
            if not _cache.pending:
                _cache.worker = None
                return
            batch = list(_cache.pending)
            corrections = [*_cache.learnt, *(example for example, _ in batch)]
        try:
            model = train(load_examples("train.csv"), corrections)
        except Exception:  # never let a background retrain take the process down
            log.exception("text model retrain failed; keeping the previous model")
            with _cache.lock:
                _cache.worker = None
            return
        with _cache.lock:
            _cache.model = model
            _cache.learnt = corrections
            latest = max([at for _, at in batch] + [_cache.learnt_latest or batch[0][1]])
            _cache.learnt_latest = latest
            _cache.state = _CorrectionsState(len(corrections), latest)
            _cache.pending = _cache.pending[len(batch) :]


def _learn_after_commit(example: CorrectionExample, created_at: datetime) -> None:
    with _cache.lock:
        _cache.pending.append((example, created_at))
        if _cache.worker is None:
            _cache.worker = threading.Thread(
                target=_retrain_in_background, name="textanalysis-retrain", daemon=True
            )
            _cache.worker.start()


def _learn_when_committed(db: Session, example: CorrectionExample, created_at: datetime) -> None:
    """Queue the correction for the background retrain once (and only if) the session commits."""

    settled = [False]  # the first commit or rollback decides; listeners cannot be removed

    def on_commit(_session: Session) -> None:
        if not settled[0]:
            settled[0] = True
            _learn_after_commit(example, created_at)

    def on_rollback(_session: Session) -> None:
        settled[0] = True

    event.listen(db, "after_commit", on_commit, once=True)
    event.listen(db, "after_rollback", on_rollback, once=True)


def wait_for_retrain(timeout: float = 60.0) -> bool:
    """Block until a background retrain finished (tests, the CLI); False on timeout."""
    worker = _cache.worker
    if worker is not None:
        worker.join(timeout)
        return not worker.is_alive()
    return True


def classify(text: str, *, db: Session | None = None) -> Classification:
    """Category, sentiment (with calibrated confidences in [0, 1]) and language of one text.

    Never raises for odd input: empty or garbage text is ``other`` with low confidence. Pass
    ``db`` so corrections stored since the model was built are learnt first.
    """
    return classify_many([text], db=db)[0]


def classify_many(texts: list[str], *, db: Session | None = None) -> list[Classification]:
    """:func:`classify` for many texts at once, in order."""
    model = get_model(db)
    return model.classify_many([(text or "")[:MAX_TEXT] for text in texts])


def record_correction(
    db: Session,
    *,
    text: str,
    field: str,
    predicted: str,
    corrected: str,
    source_type: str,
    source_id: str | uuid.UUID,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> TextCorrection:
    """Keep a person's label for a text; the next model (next ``classify(db=...)``) learns it.

    Raises RuleViolation (field ``text``, ``field``, ``corrected``, ``source_type``).
    """
    if field not in FIELDS:
        raise RuleViolation("field must be 'category' or 'sentiment'", field="field")
    if corrected not in FIELDS[field]:
        raise RuleViolation(f"unknown {field} label: {corrected!r}", field="corrected")
    if not text or not text.strip():
        raise RuleViolation("an empty text cannot be corrected", field="text")
    if not source_type or len(source_type) > 40:
        raise RuleViolation("source_type must be 1-40 characters", field="source_type")
    clipped = text[:MAX_TEXT]
    row = TextCorrection(
        text=clipped,
        text_hash=text_hash(clipped),
        language=detect_language(clipped),
        field=field,
        predicted=(predicted or "")[:40],
        corrected=corrected,
        source_type=source_type,
        source_id=str(source_id)[:64],
        actor_id=actor_id,
        created_at=ensure_utc(now),
    )
    db.add(row)
    db.flush()
    _learn_when_committed(db, CorrectionExample(row.text, row.field, row.corrected), row.created_at)
    actor = db.get(User, actor_id) if actor_id is not None else None
    append_audit(
        db,
        action="textanalysis.correct_label",
        object_type=source_type,
        object_id=str(source_id)[:64],
        now=now,
        actor_id=actor_id,
        actor_label=f"{actor.username} ({actor.role})" if actor is not None else "system",
        detail={"field": field, "predicted": predicted, "corrected": corrected},
    )
    return row


def list_corrections(
    db: Session, *, source_type: str | None = None, source_id: str | uuid.UUID | None = None
) -> list[TextCorrection]:
    """Stored corrections, newest first, optionally for one source object."""
    query = select(TextCorrection).order_by(TextCorrection.id.desc())
    if source_type is not None:
        query = query.where(TextCorrection.source_type == source_type)
    if source_id is not None:
        query = query.where(TextCorrection.source_id == str(source_id))
    return list(db.scalars(query).all())
