"""Jepsen-style bank test: concurrent HTTP clients post transfers (some retried with the same
idempotency key), one by one and in batches, while the server process is killed with SIGKILL
and restarted. Afterwards the total is unchanged, no balance is below its limit, and no key was
applied twice.

Runs against the session's database (SQLite, or PostgreSQL in the PostgreSQL pass).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.ledger.models import Account, Entry, Posting, PostingStatus
from tests.browser_support import free_port, server_env
from tests.factories import PASSWORD
from tests.ledger.helpers import funded_accounts
from tests.ledger.live import kill, start, stop

CLIENTS = 6
TRANSFERS_PER_CLIENT = 25
BATCH_CLIENTS = 2  # besides, each sending batches (decided on a snapshot, locked late)
BATCHES_PER_CLIENT = 8
BATCH_SIZE = 4
ACCOUNTS = 5
OPENING_BALANCE = 50_000
KILLS = 2
DEFINITE = {200, 201, 409, 422}


def test_sigkill_during_concurrent_transfers_keeps_the_bank_whole(
    tmp_path: Path, database: Database, database_url: str, signer: Signer
) -> None:
    run = uuid.uuid4().hex[:8]
    teller, numbers = funded_accounts(database, signer, [OPENING_BALANCE] * ACCOUNTS, run=run)
    username = teller.username
    env = {**server_env(tmp_path), "BRANCHDESK_DATABASE_URL": database_url}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = {"process": start(env, port, log)}
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    answers: dict[str, list[tuple[int, Any]]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    kills: list[float] = []

    def send(body: dict[str, Any]) -> tuple[int, Any]:
        """Retry through crashes until the server gives a definite answer."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                response = httpx.post(f"{base}/api/v1/transfers", json=body, headers=auth,
                                      timeout=10)  # fmt: skip
            except httpx.HTTPError:
                time.sleep(0.3)
                continue
            if response.status_code in DEFINITE:
                return response.status_code, response.json()
            time.sleep(0.1)  # 5xx while starting or stopping: try again with the same key
        raise TimeoutError(body["idempotency_key"])

    def send_batch(items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
        """As ``send`` for a batch; each item's outcome as the status one transfer would get."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                response = httpx.post(f"{base}/api/v1/transfers/batch",
                                      json={"transfers": items}, headers=auth,
                                      timeout=10)  # fmt: skip
            except httpx.HTTPError:
                time.sleep(0.3)
                continue
            if response.status_code == 200:
                status = {"applied": 201, "replayed": 200, "refused": 409}
                results = response.json()["results"]
                assert all(r["outcome"] != "refused" or r["error"] == "insufficient_funds"
                           for r in results), results  # fmt: skip
                return [(status[r["outcome"]], r["posting"]) for r in results]
            time.sleep(0.1)
        raise TimeoutError(items[0]["idempotency_key"])

    def batch_client(worker: int) -> None:
        rng = random.Random(1_000 + worker)
        try:
            for n in range(BATCHES_PER_CLIENT):
                items = []
                for i in range(BATCH_SIZE):
                    source, target = rng.sample(numbers, 2)
                    items.append({"from_account": source, "to_account": target, "currency": "CNY",
                                  "amount_minor": rng.randint(1, 30_000),
                                  "idempotency_key": f"{run}-b{worker}-{n}.{i}"})  # fmt: skip
                sent = [send_batch(items) for _ in range(2 if n % 2 == 0 else 1)]
                with lock:
                    for i, item in enumerate(items):
                        answers[item["idempotency_key"]] = [results[i] for results in sent]
        except Exception as exc:  # reported by the main thread
            with lock:
                errors.append(repr(exc))

    def client(worker: int) -> None:
        rng = random.Random(worker)
        try:
            for n in range(TRANSFERS_PER_CLIENT):
                source, target = rng.sample(numbers, 2)
                body = {"from_account": source, "to_account": target, "currency": "CNY",
                        "amount_minor": rng.randint(1, 30_000),
                        "idempotency_key": f"{run}-{worker}-{n}"}  # fmt: skip
                results = [send(body) for _ in range(2 if n % 4 == 0 else 1)]
                with lock:
                    answers[body["idempotency_key"]] = results
        except Exception as exc:  # reported by the main thread
            with lock:
                errors.append(repr(exc))

    def killer() -> None:
        for _ in range(KILLS):
            time.sleep(1.5)
            if done.is_set():
                return
            kill(server["process"])
            kills.append(time.monotonic())
            server["process"] = start(env, port, log)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
    threads += [threading.Thread(target=batch_client, args=(w,)) for w in range(BATCH_CLIENTS)]
    chaos = threading.Thread(target=killer)
    try:
        for thread in [*threads, chaos]:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        chaos.join()
    finally:
        stop(server["process"])
    assert errors == []
    assert len(kills) == KILLS  # the server really died while clients were sending

    with database.read_only() as db:
        accounts = list(db.execute(select(Account).where(Account.number.in_(numbers))).scalars())
        assert sum(a.balance_minor for a in accounts) == ACCOUNTS * OPENING_BALANCE
        assert all(a.balance_minor >= -a.overdraft_limit_minor for a in accounts)
        for account in accounts:
            total, count = db.execute(
                select(func.coalesce(func.sum(Entry.amount_minor), 0), func.count()).where(
                    Entry.account_id == account.id
                )
            ).one()
            assert total == account.balance_minor
            assert count == account.last_entry_seq
        postings = {
            p.idempotency_key: p
            for p in db.execute(
                select(Posting).where(Posting.idempotency_key.like(f"{run}-%-%"))
            ).scalars()
            if "-open-" not in p.idempotency_key
        }
    applied = 0
    for key, results in answers.items():
        statuses = [status for status, _ in results]
        accepted = [i for i, status in enumerate(statuses) if status in (200, 201)]
        if accepted:
            # A refusal is not stored, so a resend after one is judged afresh and may apply.
            applied += 1
            posting = postings[key]  # acknowledged: exactly one posting under the key
            assert posting.status == PostingStatus.posted
            assert all(results[i][1]["id"] == str(posting.id) for i in accepted)
            first = accepted[0]
            assert statuses[first + 1 :] == [200] * (len(statuses) - first - 1)  # replays
            assert set(statuses[:first]) <= {409}
        else:
            assert set(statuses) == {409}
            assert key not in postings  # refused (insufficient funds): nothing written
    assert len(postings) == applied  # nothing applied that was not acknowledged
    assert applied > 0
    batched = [key for key in answers if "-b" in key]
    assert len(batched) == BATCH_CLIENTS * BATCHES_PER_CLIENT * BATCH_SIZE
    assert any(key in postings for key in batched)
