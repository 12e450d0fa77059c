"""The queue screens over HTTP: kiosk, lobby display, phone page, teller console, lobby desk, SSE."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.identity.roles import Role
from branchdesk.queue.live import FeedItem
from branchdesk.queue.models import QueueSettings, Ticket
from branchdesk.queue.screens_support import checkin_code, public_event
from branchdesk.queue.views import _event_stream
from tests.browser_support import live_server
from tests.conftest import TEST_SECRET
from tests.factories import (
    NOW,
    browser_session,
    make_branch,
    make_counter,
    make_customer,
    make_service_type,
    make_ticket,
    make_user,
    offer,
)


@dataclass
class Hall:
    branch: Branch
    cash: ServiceType
    counter: Counter
    teller: User
    lobby: User


@pytest.fixture
def hall(db: Session) -> Hall:
    branch = make_branch(db, code="QV1", name_zh_hant="信義分行", name_en="Xinyi Branch")
    cash = make_service_type(
        db, code="QCASH", name_zh_hant="現金存提", name_zh_hans="现金存取",
        name_en="Cash deposit", ticket_prefix="Q", script="Count the cash twice.",
        required_documents=["ID card"],
    )  # fmt: skip
    offer(db, branch, cash)
    counter = make_counter(db, branch, cash, code="K1", name="Counter K1")
    db.add(QueueSettings(branch_id=branch.id, enforce_opening_hours=False, updated_at=NOW))
    teller = make_user(db, Role.teller, (branch,), display_name="Secret Teller Name")
    lobby = make_user(db, Role.lobby_manager, (branch,), display_name="Lobby Lee")
    db.flush()
    return Hall(branch, cash, counter, teller, lobby)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _tickets(db: Session, branch: Branch) -> list[Ticket]:
    return list(db.execute(select(Ticket).where(Ticket.branch_id == branch.id)).scalars())


def _login(client: TestClient, signer: Signer, user: User) -> str:
    cookie, csrf = browser_session(signer, user)
    client.cookies.set("bd_session", cookie)
    return csrf


# --- public screens ---------------------------------------------------------------------------


def test_kiosk_speaks_chinese_and_english(client: TestClient, hall: Hall) -> None:
    zh = client.get("/kiosk/QV1", headers={"Accept-Language": "zh-TW"})
    assert zh.status_code == 200
    assert "<h1>請取號</h1>" in zh.text
    assert '<span class="service-name">現金存提</span>' in zh.text
    assert "長者、孕婦或需要協助者：優先服務" in zh.text
    en = client.get("/kiosk/qv1", headers={"Accept-Language": "en-US"})
    assert "<h1>Take a ticket</h1>" in en.text
    assert '<span class="service-name">Cash deposit</span>' in en.text
    assert 'data-events="/b/QV1/events"' in en.text


def test_kiosk_issues_a_ticket_through_the_form(
    client: TestClient, db: Session, hall: Hall
) -> None:
    page = client.get("/kiosk/QV1", headers={"Accept-Language": "en"})
    r = client.post(
        "/kiosk/QV1/tickets",
        data={"csrf_token": _csrf(page.text), "service_code": "QCASH", "priority": "elderly"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 200
    assert '<p class="ticket-number" id="ticket-number">Q-001</p>' in r.text
    [ticket] = _tickets(db, hall.branch)
    assert (ticket.number, ticket.channel, ticket.priority, ticket.state) == (
        "Q-001", "kiosk", "elderly", "waiting"
    )  # fmt: skip
    text = _text(r.text)
    assert "Position in queue 1" in text
    assert f"/t/{ticket.public_token}" in r.text
    assert "Estimated wait" in text


def test_kiosk_refuses_an_unknown_service_and_writes_nothing(
    client: TestClient, db: Session, hall: Hall
) -> None:
    page = client.get("/kiosk/QV1", headers={"Accept-Language": "zh-TW"})
    r = client.post(
        "/kiosk/QV1/tickets",
        data={"csrf_token": _csrf(page.text), "service_code": "NOPE"},
        headers={"Accept-Language": "zh-TW"},
    )
    assert r.status_code == 422
    assert "請選擇畫面上的其中一項服務。" in r.text
    assert _tickets(db, hall.branch) == []


def test_kiosk_form_without_csrf_token_is_refused(
    client: TestClient, db: Session, hall: Hall
) -> None:
    client.get("/kiosk/QV1")
    r = client.post("/kiosk/QV1/tickets", data={"service_code": "QCASH"})
    assert r.status_code == 403
    assert _tickets(db, hall.branch) == []


def test_unknown_branch_is_404_on_public_screens(client: TestClient, hall: Hall) -> None:
    for path in ("/kiosk/NOPE", "/display/NOPE", "/b/NOPE/queue.json", "/t/not-a-token"):
        assert client.get(path).status_code == 404, path


def test_phone_page_shows_position_you_are_next_and_cancels(
    client: TestClient, db: Session, hall: Hall
) -> None:
    today = business_day(hall.branch, utcnow())
    ticket = make_ticket(db, hall.branch, hall.cash, business_on=today, queued_at=utcnow())
    page = client.get(f"/t/{ticket.public_token}", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "下一位就是您！請在櫃檯附近等候。" in page.text
    assert "目前順位 1" in _text(page.text)
    r = client.post(
        f"/t/{ticket.public_token}/cancel",
        data={"csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/t/{ticket.public_token}")
    db.refresh(ticket)
    assert ticket.state == "cancelled"
    again = client.post(
        f"/t/{ticket.public_token}/cancel",
        data={"csrf_token": _csrf(page.text)},
        headers={"Accept-Language": "zh-TW"},
    )
    assert again.status_code == 409
    assert "此號碼狀態已變更" in again.text


def test_remote_ticket_needs_the_branch_check_in_code(
    client: TestClient, db: Session, hall: Hall
) -> None:
    take = client.get("/b/QV1/take", headers={"Accept-Language": "en"})
    assert "<h1>Join the queue from your phone</h1>" in take.text
    r = client.post(
        "/b/QV1/take",
        data={"csrf_token": _csrf(take.text), "service_code": "QCASH", "contact_phone": "0912"},
        follow_redirects=False,
    )
    [ticket] = _tickets(db, hall.branch)
    assert (r.status_code, r.headers["location"]) == (303, f"/t/{ticket.public_token}")
    assert (ticket.channel, ticket.contact_phone, ticket.checked_in_at) == ("remote", "0912", None)
    page = client.get(f"/t/{ticket.public_token}", headers={"Accept-Language": "en"})
    assert "check in with the code shown on the kiosk" in page.text
    wrong = client.post(
        f"/t/{ticket.public_token}/check-in",
        data={"csrf_token": _csrf(page.text), "code": "99999"},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == 422
    assert "That check-in code is not right." in wrong.text
    db.refresh(ticket)
    assert ticket.checked_in_at is None
    code = checkin_code(Signer(TEST_SECRET), hall.branch.id, business_day(hall.branch, utcnow()))
    assert f"<strong>{code}</strong>" in client.get("/kiosk/QV1").text
    right = client.post(
        f"/t/{ticket.public_token}/check-in",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    assert right.status_code == 303
    db.refresh(ticket)
    assert ticket.checked_in_at is not None


def test_public_snapshot_and_display_show_no_staff_names(
    client: TestClient, db: Session, signer: Signer, hall: Hall
) -> None:
    csrf = _login(client, signer, hall.teller)
    assert client.post("/console/QV1/K1/open", data={"csrf_token": csrf}).status_code == 200
    client.cookies.clear()
    snapshot = client.get("/b/QV1/queue.json")
    assert snapshot.status_code == 200
    body = snapshot.json()
    assert body["counters"] == [
        {"code": "K1", "name": "Counter K1", "status": "open", "current_ticket": None}
    ]
    assert "Secret Teller Name" not in snapshot.text
    display = client.get("/display/QV1", headers={"Accept-Language": "en"})
    assert display.status_code == 200
    assert "Welcome. Please take a ticket at the kiosk." in display.text
    assert "Secret Teller Name" not in display.text


def test_public_events_keep_only_public_fields() -> None:
    payload = {
        "ts": "2026-03-02T10:00:00+08:00", "type": "called", "ticket": "uuid", "number": "A-001",
        "service": "CASH", "priority": "vip", "branch": "TPE01", "counter": "C01",
        "customer": "x",
    }  # fmt: skip
    assert public_event("ticket.called", payload) == {
        "type": "called", "number": "A-001", "counter": "C01", "service": "CASH",
        "ts": "2026-03-02T10:00:00+08:00",
    }  # fmt: skip
    assert public_event("customer.created", payload) is None


# --- staff screens ----------------------------------------------------------------------------


def test_console_serves_a_ticket_from_call_to_completion(
    client: TestClient, db: Session, signer: Signer, hall: Hall
) -> None:
    customer = make_customer(db, signer, full_name="陳美玲", home_branch_id=hall.branch.id)
    today = business_day(hall.branch, utcnow())
    ticket = make_ticket(
        db, hall.branch, hall.cash, business_on=today, customer_id=customer.id, queued_at=utcnow()
    )
    csrf = _login(client, signer, hall.teller)
    page = client.get("/console/QV1/K1", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "櫃員工作台" in page.text
    assert "開啟櫃檯後即可叫號。" in page.text

    def act(action: str, **fields: str) -> httpx.Response:
        return client.post(
            f"/console/QV1/K1/{action}",
            data={"csrf_token": csrf, **fields},
            headers={"Accept-Language": "en"},
        )

    assert act("open").status_code == 200
    called = act("call-next")
    assert called.status_code == 200
    assert '<p class="ticket-number" id="current-number">' + ticket.number in called.text
    assert "陳美玲" in called.text
    assert "Count the cash twice." in called.text
    assert "<li>ID card</li>" in called.text
    db.refresh(ticket)
    assert (ticket.state, ticket.counter_id) == ("called", hall.counter.id)
    assert act("start", ticket_id=str(ticket.id)).status_code == 200
    done = act("complete", ticket_id=str(ticket.id), outcome_code="follow_up")
    assert done.status_code == 200
    assert "No customer at this counter." in done.text
    db.refresh(ticket)
    assert (ticket.state, ticket.outcome_code) == ("completed", "follow_up")

    refused = act("recall", ticket_id=str(ticket.id))
    assert refused.status_code == 409
    assert "This ticket has moved on; the page shows its current state." in refused.text
    db.refresh(ticket)
    assert (ticket.state, ticket.recall_count) == ("completed", 0)
    empty = act("call-next")
    assert "Nobody is waiting for this counter." in empty.text


def test_display_shows_now_calling_only_while_the_counter_waits_for_the_customer(
    client: TestClient, db: Session, signer: Signer, hall: Hall
) -> None:
    today = business_day(hall.branch, utcnow())
    first = make_ticket(db, hall.branch, hall.cash, business_on=today, queued_at=utcnow())
    csrf = _login(client, signer, hall.teller)

    def act(action: str, **fields: str) -> None:
        response = client.post(f"/console/QV1/K1/{action}", data={"csrf_token": csrf, **fields})
        assert response.status_code == 200

    def display() -> tuple[str, str]:
        page = client.get("/display/QV1", headers={"Accept-Language": "en"}).text
        now = page.split('id="display-now"', 1)[1].split("</section>", 1)[0]
        recent = page.split('id="display-recent"', 1)[1].split("</section>", 1)[0]
        return now, recent

    act("open")
    act("call-next")
    now, recent = display()
    assert f'<span class="ticket-number" id="now-number">{first.number}</span>' in now
    assert f"Number {first.number}, please go to counter K1." in now
    assert first.number not in recent
    act("start", ticket_id=str(first.id))
    now, recent = display()
    assert "Welcome. Please take a ticket at the kiosk." in now
    assert first.number not in now
    assert f'<span class="num">{first.number}</span>' in recent
    snapshot = client.get("/b/QV1/queue.json").json()
    assert [(c["number"], c["state"]) for c in snapshot["recent_calls"]] == [
        (first.number, "serving")
    ]


def test_console_refuses_call_next_on_a_closed_counter(
    client: TestClient, db: Session, signer: Signer, hall: Hall
) -> None:
    today = business_day(hall.branch, utcnow())
    ticket = make_ticket(db, hall.branch, hall.cash, business_on=today)
    csrf = _login(client, signer, hall.teller)
    r = client.post("/console/QV1/K1/call-next", data={"csrf_token": csrf})
    assert r.status_code == 409
    assert "Open the counter first." in r.text
    db.refresh(ticket)
    assert ticket.state == "waiting"
    assert client.post("/console/QV1/K1/dance", data={"csrf_token": csrf}).status_code == 404


def test_lobby_manager_issues_a_vip_ticket_and_cancels_it(
    client: TestClient, db: Session, signer: Signer, hall: Hall
) -> None:
    csrf = _login(client, signer, hall.lobby)
    page = client.get("/lobby/QV1", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "<h1>QV1 · 大堂服務台</h1>" in page.text
    r = client.post(
        "/lobby/QV1/tickets",
        data={"csrf_token": csrf, "service_code": "QCASH", "priority": "vip"},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/lobby/QV1?issued=Q-001")
    [ticket] = _tickets(db, hall.branch)
    assert (ticket.priority, ticket.channel) == ("vip", "lobby")
    listed = client.get("/lobby/QV1?issued=Q-001", headers={"Accept-Language": "en"})
    assert "Ticket Q-001 issued." in listed.text
    assert 'id="ticket-Q-001"' in listed.text
    r = client.post(
        f"/lobby/QV1/tickets/{ticket.id}/cancel", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    db.refresh(ticket)
    assert ticket.state == "cancelled"
    bad = client.post(
        "/lobby/QV1/tickets",
        data={"csrf_token": csrf, "service_code": "QCASH", "customer_number": "0000000000"},
    )
    assert bad.status_code == 422
    assert "No customer with this number." in bad.text
    assert db.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1


# --- the event stream against a live server ---------------------------------------------------


@pytest.fixture(scope="module")
def live_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(Path(tmp_path_factory.mktemp("queue-live"))) as url:
        yield url


def test_event_stream_sends_queue_events_with_public_fields(live_base: str) -> None:
    lines: list[str] = []

    def read() -> None:
        with httpx.stream("GET", f"{live_base}/b/TPE01/events?timeout=4", timeout=10) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines.extend(stream.iter_lines())

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1.0)  # subscribed before the ticket is issued
    with httpx.Client(base_url=live_base) as kiosk:
        page = kiosk.get("/kiosk/TPE01")
        issued = kiosk.post(
            "/kiosk/TPE01/tickets", data={"csrf_token": _csrf(page.text), "service_code": "FX"}
        )
        assert issued.status_code == 200
    reader.join(timeout=15)
    assert not reader.is_alive()
    assert lines[0] == "retry: 3000"
    assert "event: queue" in lines
    data = next(line for line in lines if line.startswith("data: "))
    assert data.startswith('data: {"type": "issued", "number": "F-001", "counter": null, ')
    assert '"service": "FX"' in data
    assert '"ticket"' not in data
    assert '"priority"' not in data
    assert any(line.startswith("id: ") for line in lines)


def test_event_stream_with_zero_timeout_ends_at_once(live_base: str) -> None:
    r = httpx.get(f"{live_base}/b/TPE01/events?timeout=0", timeout=5)
    assert (r.status_code, r.text) == (200, "retry: 3000\n\n")
    assert httpx.get(f"{live_base}/b/NOPE/events?timeout=0", timeout=5).status_code == 404


# --- the event stream's own behaviour (no server) ---------------------------------------------


class _FakeRequest:
    def __init__(self, disconnect_after: int) -> None:
        self.checks = 0
        self.disconnect_after = disconnect_after

    async def is_disconnected(self) -> bool:
        self.checks += 1
        return self.checks > self.disconnect_after


class _FakeFeed:
    def __init__(self, items: list[FeedItem]) -> None:
        self.items = items
        self.subscribed = 0
        self.unsubscribed = 0

    async def subscribe(
        self, branch_id: uuid.UUID | None, *, ready: asyncio.Event | None = None
    ) -> AsyncIterator[FeedItem]:
        self.subscribed += 1
        if ready is not None:
            ready.set()
        try:
            for item in self.items:
                yield item
            await asyncio.Event().wait()  # nothing more happens
        finally:
            self.unsubscribed += 1


def _collect(
    request: _FakeRequest,
    source: _FakeFeed,
    timeout: float,
    missed: Callable[[], list[FeedItem]] | None = None,
) -> list[str]:
    async def run() -> list[str]:
        # the fakes stand in for starlette's Request and the EventFeed
        stream = _event_stream(
            request,  # type: ignore[arg-type]
            source,  # type: ignore[arg-type]
            uuid.uuid4(),
            timeout,
            missed=missed,
        )
        chunks = [chunk async for chunk in stream]
        await asyncio.sleep(0.05)  # let the cancelled pump finish
        return chunks

    return asyncio.run(run())


def test_stream_sends_public_events_heartbeats_and_unsubscribes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("branchdesk.queue.views.HEARTBEAT_SECONDS", 0.05)
    branch_id = uuid.uuid4()
    source = _FakeFeed(
        [
            FeedItem(7, branch_id, "ticket.called", {"type": "called", "number": "A-001",
                     "counter": "C01", "service": "CASH", "ts": "t", "ticket": "secret"}),
            FeedItem(8, branch_id, "customer.updated", {"type": "updated", "number": "x"}),
        ]
    )  # fmt: skip
    chunks = _collect(_FakeRequest(disconnect_after=1000), source, timeout=0.3)
    assert chunks[0] == "retry: 3000\n\n"
    assert chunks[1] == (
        'id: 7\nevent: queue\ndata: {"type": "called", "number": "A-001", "counter": "C01", '
        '"service": "CASH", "ts": "t"}\n\n'
    )
    assert set(chunks[2:]) == {": heartbeat\n\n"}
    assert len(chunks) >= 4
    assert (source.subscribed, source.unsubscribed) == (1, 1)


def test_stream_stops_when_the_browser_goes_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("branchdesk.queue.views.HEARTBEAT_SECONDS", 0.05)
    source = _FakeFeed([])
    started = time.monotonic()
    chunks = _collect(_FakeRequest(disconnect_after=2), source, timeout=60)
    assert time.monotonic() - started < 5
    assert chunks == ["retry: 3000\n\n", ": heartbeat\n\n", ": heartbeat\n\n"]
    assert (source.subscribed, source.unsubscribed) == (1, 1)


def test_stream_replays_what_a_reconnecting_client_missed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("branchdesk.queue.views.HEARTBEAT_SECONDS", 0.05)
    branch_id = uuid.uuid4()

    def called(seq: int, number: str) -> FeedItem:
        payload = {"type": "called", "number": number, "counter": "C01", "service": "CASH",
                   "ts": "t"}  # fmt: skip
        return FeedItem(seq, branch_id, "ticket.called", payload)

    # 11 and 12 were missed; 12 also arrives live (committed while replaying), then 13
    source = _FakeFeed([called(12, "A-012"), called(13, "A-013")])
    chunks = _collect(
        _FakeRequest(disconnect_after=1000), source, timeout=0.3,
        missed=lambda: [called(11, "A-011"), called(12, "A-012")],
    )  # fmt: skip
    ids = [chunk.split("\n", 1)[0] for chunk in chunks if chunk.startswith("id: ")]
    assert ids == ["id: 11", "id: 12", "id: 13"]


def test_last_event_id_replays_the_branch_events_after_it(live_base: str) -> None:
    with httpx.Client(base_url=live_base) as kiosk:
        page = kiosk.get("/kiosk/TPE01")
        for _ in range(2):
            issued = kiosk.post(
                "/kiosk/TPE01/tickets",
                data={"csrf_token": _csrf(page.text), "service_code": "FX"},
            )
            assert issued.status_code == 200
        everything = kiosk.get("/b/TPE01/events?timeout=1", headers={"Last-Event-ID": "0"})
        ids = [int(line[4:]) for line in everything.text.splitlines() if line.startswith("id: ")]
        assert len(ids) >= 2
        assert ids == sorted(set(ids))
        after = kiosk.get("/b/TPE01/events?timeout=1", headers={"Last-Event-ID": str(ids[-2])})
        lines = after.text.splitlines()
        assert [line for line in lines if line.startswith("id: ")] == [f"id: {ids[-1]}"]
        assert lines[lines.index(f"id: {ids[-1]}") + 2].startswith('data: {"type": "issued"')
        ignored = kiosk.get("/b/TPE01/events?timeout=0.5", headers={"Last-Event-ID": "junk"})
        assert [line for line in ignored.text.splitlines() if line.startswith("id: ")] == []
