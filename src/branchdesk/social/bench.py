"""Time to publish and to record: ``python -m branchdesk.social.bench [--posts N] [--url URL]``.

On a fresh database (a temporary SQLite file unless ``--url`` names an empty, migrated one):
N posts go through draft, submit, approve and publish (one transaction each, as the API does),
then the outbox hands them to the default ``FilePublisher`` (one JSON line each); N webhook
replies naming a published post are recorded through ``complaints.intake.ingest_social`` (the
classifier is a constant "positive" stand-in: the text model's own cost is in the text-analysis
figures). Prints the median and p95 milliseconds of each step.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from branchdesk.bench.latency import nearest_rank
from branchdesk.catalog.models import Branch
from branchdesk.complaints import intake
from branchdesk.complaints import service as complaints
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.core.events import deliver_outbox
from branchdesk.core.ids import new_id
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.social import service
from branchdesk.social.publisher import FilePublisher, use_publisher
from branchdesk.social.schemas import PostCreate


def _percentiles(samples: list[float]) -> str:
    p95 = nearest_rank(samples, 95)
    return f"median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms (n={len(samples)})"


def run(database: Database, *, posts: int, folder: Path) -> dict[str, str]:
    now = utcnow()
    with database.unit_of_work() as db:
        branch = Branch(
            id=new_id(), code="BNCH", name_zh_hant="測試", name_zh_hans="测试", name_en="Bench",
            address="", region="", timezone="Asia/Hong_Kong", phone="", is_active=True,
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(branch)
        db.flush()
        people = []
        for username, role in (
            ("bench.maker", Role.quality_officer),
            ("bench.checker", Role.branch_manager),
        ):
            user = User(
                id=new_id(), username=username, display_name=username, role=role,
                password_hash="-", preferred_locale=None, is_active=True, failed_login_count=0,
                auth_epoch=0, password_changed_at=now, created_at=now,
            )  # fmt: skip
            db.add(user)
            people.append(Principal(user.id, username, username, role, frozenset({branch.id})))
    maker, checker = people
    steps: dict[str, list[float]] = {"draft": [], "submit": [], "approve": [], "publish": []}
    references: list[str] = []
    for n in range(posts):
        data = PostCreate(
            branch_code="BNCH", channel="wechat", title=f"Rates {n}", body="Time deposits 3.1%."
        )
        started = time.perf_counter()
        with database.unit_of_work() as db:
            reference = service.create_post(db, data=data, actor=maker, now=utcnow()).reference
        steps["draft"].append((time.perf_counter() - started) * 1000)
        references.append(reference)
        for name, function, actor in (
            ("submit", service.submit_post, maker),
            ("approve", service.approve_post, checker),
            ("publish", service.publish_post, maker),
        ):
            started = time.perf_counter()
            with database.unit_of_work() as db:
                function(db, reference=reference, actor=actor, now=utcnow())
            steps[name].append((time.perf_counter() - started) * 1000)
    sink = folder / "social_posts.jsonl"
    delivered: list[float] = []
    with use_publisher(FilePublisher(sink)):
        started = time.perf_counter()
        with database.unit_of_work() as db:
            count = deliver_outbox(db, now=utcnow() + timedelta(seconds=1), limit=posts * 2)
        delivered.append((time.perf_counter() - started) * 1000 / max(count, 1))
    lines = len(sink.read_text(encoding="utf-8").splitlines())
    complaints.set_classifier(lambda _text: _Positive())
    recorded: list[float] = []
    try:
        for n in range(posts):
            payload = {
                "delivery_id": f"bench-{n}", "sender": {"id": f"u{n}", "name": "Bench"},
                "text": "Great rate, thanks!", "in_reply_to": references[n % len(references)],
            }  # fmt: skip

            started = time.perf_counter()
            with database.unit_of_work() as db:
                intake.ingest_social(db, hook="generic", payload=payload, now=utcnow())
            recorded.append((time.perf_counter() - started) * 1000)
    finally:
        complaints.set_classifier(None)
    publish_total = [
        sum(values)
        for values in zip(*(steps[s] for s in ("submit", "approve", "publish")), strict=True)
    ]
    return {
        **{f"{name} (one transaction)": _percentiles(values) for name, values in steps.items()},
        "submit + approve + publish": _percentiles(publish_total),
        "outbox -> FilePublisher, per post": f"{delivered[0]:.2f} ms ({lines} lines written)",
        "webhook reply recorded in the log": _percentiles(recorded),
    }


class _Positive:
    category, category_confidence = "other", 0.9
    sentiment, sentiment_confidence, language = "positive", 0.9, "en"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--url", default="")
    args = parser.parse_args(argv)
    from branchdesk import registry
    from branchdesk.migrations import upgrade

    registry.load_all()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        if not args.url:
            upgrade(url)
        database = Database(url)
        for name, figure in run(database, posts=args.posts, folder=Path(tmp)).items():
            print(f"{name}: {figure}")  # noqa: T201 - a command's output


if __name__ == "__main__":
    main()
