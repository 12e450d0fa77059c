"""The education library: articles, fraud warnings and product explainers in three languages,
for everyone or for one segment; shown in the portal and at the kiosk; every opening counted."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CustomerSegment
from branchdesk.care.models import EducationItem, EducationRead, ReadChannel
from branchdesk.care.schemas import EducationCreate, EducationLine, EducationReadLine, EducationView
from branchdesk.care.service.campaigns import SEGMENT_KINDS
from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission

KIND_ORDER = {"fraud_warning": 0, "product_explainer": 1, "article": 2}


def _title(item: EducationItem, locale: str) -> str:
    return {"zh-Hant": item.title_zh_hant, "zh-Hans": item.title_zh_hans}.get(locale, item.title_en)


def _view(item: EducationItem, locale: str) -> EducationView:
    body = {"zh-Hant": item.body_zh_hant, "zh-Hans": item.body_zh_hans}.get(locale, item.body_en)
    return EducationView(slug=item.slug, kind=item.kind, title=_title(item, locale), body=body)


def create_item(
    db: Session, *, data: EducationCreate, actor: Principal, now: datetime
) -> EducationLine:
    """Publish an item. Raises Forbidden, Conflict (slug taken), RuleViolation (targeting)."""
    actor.require(Permission.education_manage)
    if (data.segment_kind is None) != (data.segment is None):
        raise RuleViolation("give both a segment kind and a segment, or neither", field="segment")
    if data.segment_kind is not None and data.segment_kind not in SEGMENT_KINDS:
        raise RuleViolation(f"one of {', '.join(SEGMENT_KINDS)}", field="segment_kind")
    if db.execute(select(EducationItem.id).where(EducationItem.slug == data.slug)).first():
        raise Conflict("an item with this slug exists", field="slug")
    item = EducationItem(
        id=new_id(), slug=data.slug, kind=data.kind, title_zh_hant=data.title_zh_hant,
        title_zh_hans=data.title_zh_hans, title_en=data.title_en, body_zh_hant=data.body_zh_hant,
        body_zh_hans=data.body_zh_hans, body_en=data.body_en, segment_kind=data.segment_kind,
        segment=data.segment, is_published=True, created_by_id=actor.user_id, created_at=now,
    )  # fmt: skip
    db.add(item)
    db.flush()
    append_audit(
        db, action="education.create", object_type="education_item", object_id=item.id,
        now=now, actor=actor, detail={"slug": item.slug, "kind": item.kind},
    )  # fmt: skip
    return list_items(db, actor=actor, slug=item.slug)[0]


def list_items(db: Session, *, actor: Principal, slug: str | None = None) -> list[EducationLine]:
    """Every item with its reads (portal, kiosk, distinct customers). Raises Forbidden."""
    actor.require(Permission.education_manage)
    reads = {
        (item_id, channel): (int(n), int(readers))
        for item_id, channel, n, readers in db.execute(
            select(EducationRead.item_id, EducationRead.channel, func.count(),
                   func.count(func.distinct(EducationRead.customer_id)))
            .group_by(EducationRead.item_id, EducationRead.channel)
        ).all()
    }  # fmt: skip
    stmt = select(EducationItem).order_by(EducationItem.kind, EducationItem.slug)
    if slug is not None:
        stmt = stmt.where(EducationItem.slug == slug)
    return [
        EducationLine(
            id=i.id, slug=i.slug, kind=i.kind, title_en=i.title_en,
            title_zh_hant=i.title_zh_hant, title_zh_hans=i.title_zh_hans,
            segment_kind=i.segment_kind, segment=i.segment,
            is_published=i.is_published,
            portal_reads=reads.get((i.id, ReadChannel.portal), (0, 0))[0],
            kiosk_reads=reads.get((i.id, ReadChannel.kiosk), (0, 0))[0],
            readers=reads.get((i.id, ReadChannel.portal), (0, 0))[1],
        )
        for i in db.execute(stmt).scalars()
    ]  # fmt: skip


def _for_everyone() -> ColumnElement[bool]:
    """Items for every customer (no segment), all the kiosk shows: it does not know who reads."""
    return EducationItem.segment_kind.is_(None)


def _for_customer(customer_id: uuid.UUID) -> ColumnElement[bool]:
    mine = select(CustomerSegment.kind, CustomerSegment.segment).where(
        CustomerSegment.customer_id == customer_id, CustomerSegment.valid_to.is_(None)
    )
    pairs = mine.subquery()
    return or_(
        _for_everyone(),
        select(pairs.c.kind)
        .where(
            and_(
                pairs.c.kind == EducationItem.segment_kind, pairs.c.segment == EducationItem.segment
            )
        )
        .exists(),
    )


def _sorted(items: list[EducationItem]) -> list[EducationItem]:
    return sorted(items, key=lambda i: (KIND_ORDER.get(i.kind, 9), i.slug))


def items_for_customer(db: Session, *, customer_id: uuid.UUID, locale: str) -> list[EducationView]:
    """Published items for everyone plus those for the customer's current segments."""
    rows = db.execute(
        select(EducationItem).where(EducationItem.is_published, _for_customer(customer_id))
    ).scalars()
    return [_view(i, locale) for i in _sorted(list(rows))]


def items_for_kiosk(db: Session, *, locale: str) -> list[EducationView]:
    """Published items for everyone (the kiosk does not know who is reading)."""
    rows = db.execute(
        select(EducationItem).where(EducationItem.is_published, _for_everyone())
    ).scalars()
    return [_view(i, locale) for i in _sorted(list(rows))]


def _open(
    db: Session,
    *,
    slug: str,
    audience: ColumnElement[bool],
    locale: str,
    read: EducationRead,
) -> EducationView:
    """The published item ``slug`` if ``audience`` may read it, with ``read`` (item_id still to
    fill in) recorded. Raises NotFound (unknown, not published or meant for someone else)."""
    item = db.execute(
        select(EducationItem).where(
            EducationItem.slug == slug, EducationItem.is_published, audience
        )
    ).scalar_one_or_none()
    if item is None:
        raise NotFound("no such article")
    read.item_id = item.id
    db.add(read)
    db.flush()
    return _view(item, locale)


def read_for_customer(
    db: Session, *, slug: str, customer_id: uuid.UUID, locale: str, now: datetime
) -> EducationView:
    """Open an item in the portal (the read is recorded). Raises NotFound (unknown, not
    published or meant for another segment)."""
    read = EducationRead(id=new_id(), customer_id=customer_id, branch_id=None,
                         channel=ReadChannel.portal, read_at=now)  # fmt: skip
    return _open(db, slug=slug, audience=_for_customer(customer_id), locale=locale, read=read)


def read_at_kiosk(
    db: Session, *, slug: str, branch_id: uuid.UUID, locale: str, now: datetime
) -> EducationView:
    """Open an item at a branch's kiosk (counted for the branch). Raises NotFound."""
    read = EducationRead(id=new_id(), customer_id=None, branch_id=branch_id,
                         channel=ReadChannel.kiosk, read_at=now)  # fmt: skip
    return _open(db, slug=slug, audience=_for_everyone(), locale=locale, read=read)


def reads_of_customer(
    db: Session, *, customer_id: uuid.UUID, locale: str, limit: int = 10
) -> list[EducationReadLine]:
    """The customer's latest reads (for the customer 360)."""
    return [
        EducationReadLine(slug=i.slug, title=_title(i, locale), channel=r.channel,
                          read_at=r.read_at)
        for r, i in db.execute(
            select(EducationRead, EducationItem)
            .join(EducationItem, EducationItem.id == EducationRead.item_id)
            .where(EducationRead.customer_id == customer_id)
            .order_by(EducationRead.read_at.desc())
            .limit(limit)
        ).all()
    ]  # fmt: skip
