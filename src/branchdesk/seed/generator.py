"""The synthetic bank generator: branches, services, counters, staff and customers."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from branchdesk.care.seed import seed_demo_care
from branchdesk.catalog.models import (
    Branch,
    BranchService,
    Counter,
    CounterStatus,
    Holiday,
    OpeningHours,
    ServiceStandardVersion,
    ServiceType,
    counter_services,
)
from branchdesk.core.config import get_settings
from branchdesk.core.db import Database
from branchdesk.core.ids import mod97_check_digits
from branchdesk.core.references import ReferenceCounter
from branchdesk.core.security import Signer, hash_password, mask_identifier
from branchdesk.customers.models import Customer, IdDocumentType
from branchdesk.feedback.seed import seed_responses
from branchdesk.identity.audit import append_audit
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.roles import Role
from branchdesk.loans.service.products import seed_products
from branchdesk.loyalty.seed import seed_demo_loyalty
from branchdesk.portal.seed import enrol_demo_customers
from branchdesk.queue.models import QueueSettings
from branchdesk.seed.names import ENGLISH_FIRST, ENGLISH_LAST, GIVEN, SURNAMES
from branchdesk.social.seed import seed_demo_social

DEMO_PASSWORD = "branchdesk-demo"
SEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class SeedError(Exception):
    pass


@dataclass
class SeedSummary:
    profile: str
    seed: int
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        if self.skipped:
            return f"database already holds a bank; seeding ({self.profile}) skipped"
        parts = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return f"seeded profile {self.profile} (seed {self.seed}): {parts}"


@dataclass(frozen=True)
class BranchSpec:
    code: str
    names: tuple[str, str, str]
    address: str
    region: str
    timezone: str
    locale: str
    id_type: IdDocumentType
    saturday: bool = False


DEMO_BRANCHES = [
    BranchSpec("TPE01", ("台北信義分行", "台北信义分行", "Taipei Xinyi Branch"),
               "台北市信義區松仁路 100 號", "Taiwan North", "Asia/Taipei", "zh-Hant",
               IdDocumentType.national_id),
    BranchSpec("HKG01", ("中環分行", "中环分行", "Central Branch"),
               "香港中環德輔道中 88 號", "Hong Kong", "Asia/Hong_Kong", "zh-Hant",
               IdDocumentType.hk_id, saturday=True),
    BranchSpec("SHA01", ("陸家嘴支行", "陆家嘴支行", "Lujiazui Sub-branch"),
               "上海市浦東新區陸家嘴環路 1000 號", "Shanghai", "Asia/Shanghai", "zh-Hans",
               IdDocumentType.national_id),
]  # fmt: skip

# services booked by appointment in the demo
APPOINTMENT_SERVICES = ("ACCT", "LOAN", "WLTH")

# code, names, prefix, handling minutes, target wait, documents, script
SERVICES = [
    ("CASH", ("現金存提", "现金存取", "Cash deposit and withdrawal"), "A", 5, 15,
     ["ID document or bank card"],
     "1. 微笑問候，確認客戶身分。Greet the customer and confirm identity.\n"
     "2. 當面點鈔，大額現金雙人複核。Count cash in front of the customer; large cash is double-checked.\n"
     "3. 交付回單並提醒保管。Hand over the receipt."),
    ("ACCT", ("開戶服務", "开户服务", "Account opening"), "B", 20, 20,
     ["ID document (valid)", "Proof of address", "Tax residency self-certification"],
     "1. 核驗證件有效期。Check the ID document is valid and not expired.\n"
     "2. 完成客戶風險評估。Complete the customer risk questionnaire.\n"
     "3. 說明費用與存款保險。Explain fees and deposit insurance."),
    ("XFER", ("轉帳匯款", "转账汇款", "Transfers and remittances"), "C", 8, 15,
     ["ID document", "Payee details"],
     "1. 核對收款人資料。Verify payee details.\n2. 防詐提醒。Give the anti-fraud reminder."),
    ("LOAN", ("貸款諮詢", "贷款咨询", "Loan consultation"), "D", 30, 30,
     ["ID document", "Proof of income", "Bank statements (6 months)"],
     "1. 了解需求與收入負債。Understand the need, income and obligations.\n"
     "2. 說明利率、費用與還款方式。Explain rate, fees and repayment."),
    ("WLTH", ("理財服務", "理财服务", "Wealth management"), "E", 25, 20,
     ["ID document", "Valid risk assessment"],
     "1. 確認風險評估未過期。Confirm the risk assessment is current.\n"
     "2. 只推薦適合的產品並錄音錄像。Recommend only suitable products; record the sale."),
    ("FX", ("外幣兌換", "外币兑换", "Foreign exchange"), "F", 6, 15,
     ["ID document"], "1. 報價並確認金額。Quote the rate and confirm the amount."),
    ("CARD", ("信用卡服務", "信用卡服务", "Card services"), "G", 10, 20,
     ["ID document", "Card"], "1. 核對身分後處理掛失、補卡或額度。Verify identity, then handle the request."),
    ("ENQ", ("綜合查詢", "综合查询", "General enquiries"), "H", 5, 10,
     [], "1. 耐心解答，必要時轉介。Answer patiently; refer when needed."),
]  # fmt: skip

# counter code, name, vip, services
COUNTERS = [
    ("C01", "Counter 1", False, ["CASH", "XFER", "FX", "ENQ"]),
    ("C02", "Counter 2", False, ["CASH", "XFER", "FX", "ENQ"]),
    ("C03", "Counter 3", False, ["CASH", "ACCT", "CARD", "ENQ"]),
    ("C04", "Counter 4", False, ["ACCT", "CARD", "XFER"]),
    ("C05", "Counter 5", False, ["LOAN", "WLTH", "ACCT"]),
    ("C06", "VIP Counter", True, ["CASH", "XFER", "WLTH", "ACCT", "FX"]),
]

HOLIDAYS = {
    "Asia/Taipei": [("2026-02-16", "春節 Lunar New Year"), ("2026-02-17", "春節 Lunar New Year"),
                    ("2026-04-03", "兒童節 Children's Day"), ("2026-06-19", "端午節 Dragon Boat"),
                    ("2026-09-25", "中秋節 Mid-Autumn"), ("2026-10-09", "國慶日 National Day"),
                    ("2027-01-01", "元旦 New Year's Day")],
    "Asia/Hong_Kong": [("2026-02-17", "農曆新年 Lunar New Year"), ("2026-04-03", "耶穌受難節 Good Friday"),
                       ("2026-06-19", "端午節 Tuen Ng"), ("2026-07-01", "回歸紀念日 HKSAR Day"),
                       ("2026-09-26", "中秋節翌日 Day after Mid-Autumn"), ("2026-10-01", "國慶日 National Day"),
                       ("2026-12-25", "聖誕節 Christmas Day")],
    "Asia/Shanghai": [("2026-02-16", "春节 Spring Festival"), ("2026-02-17", "春节 Spring Festival"),
                      ("2026-05-01", "劳动节 Labour Day"), ("2026-06-19", "端午节 Dragon Boat"),
                      ("2026-09-25", "中秋节 Mid-Autumn"), ("2026-10-01", "国庆节 National Day"),
                      ("2026-10-02", "国庆节 National Day")],
}  # fmt: skip

# username suffix, role, display
BRANCH_STAFF = [
    ("manager", Role.branch_manager, "Branch Manager"),
    ("teller1", Role.teller, "Teller 1"),
    ("teller2", Role.teller, "Teller 2"),
    ("lobby", Role.lobby_manager, "Lobby Manager"),
    ("rm", Role.relationship_manager, "Relationship Manager"),
]
BANK_STAFF = [
    ("admin", Role.admin, "Administrator", False),
    ("quality", Role.quality_officer, "Quality Officer", True),
    ("risk", Role.risk_officer, "Risk Officer", True),
    ("compliance", Role.compliance_officer, "Compliance Officer", True),
]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _bench_branches(count: int) -> list[BranchSpec]:
    cities = [
        ("TPE", "台北", "台北", "Taipei", "Asia/Taipei", "zh-Hant", IdDocumentType.national_id),
        ("HKG", "香港", "香港", "Hong Kong", "Asia/Hong_Kong", "zh-Hant", IdDocumentType.hk_id),
        ("SHA", "上海", "上海", "Shanghai", "Asia/Shanghai", "zh-Hans", IdDocumentType.national_id),
        ("SZX", "深圳", "深圳", "Shenzhen", "Asia/Shanghai", "zh-Hans", IdDocumentType.national_id),
        ("TXG", "台中", "台中", "Taichung", "Asia/Taipei", "zh-Hant", IdDocumentType.national_id),
    ]
    specs = []
    for index in range(count):
        prefix, hant, hans, en, tz, locale, id_type = cities[index % len(cities)]
        number = index // len(cities) + 1
        specs.append(
            BranchSpec(
                f"{prefix}{number:02d}",
                (f"{hant}第{number}分行", f"{hans}第{number}支行", f"{en} Branch {number}"),
                f"{en} district {number}",
                en,
                tz,
                locale,
                id_type,
                saturday=prefix == "HKG",
            )
        )
    return specs


def _id_number(rng: random.Random, id_type: IdDocumentType, birth: date) -> str:
    if id_type is IdDocumentType.hk_id:
        return f"{rng.choice('ABCDEGHKMPRYZ')}{rng.randrange(10**6):06d}{rng.randrange(10)}"
    if id_type is IdDocumentType.passport:
        return f"P{rng.randrange(10**8):08d}"
    if rng.random() < 0.5:  # Taiwan style
        return f"{rng.choice('ABCDEFGHJKLMNPQRSTUVXYWZIO')}{rng.choice('12')}{rng.randrange(10**8):08d}"
    return f"{rng.randrange(110000, 659999)}{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"


def _is_empty(db: Session) -> bool:
    return db.execute(select(func.count()).select_from(Branch)).scalar_one() == 0


def seed_database(
    database: Database,
    *,
    profile: str,
    seed: int,
    branches: int | None = None,
    customers: int | None = None,
    only_if_empty: bool = False,
    history_days: int = 10,
) -> SeedSummary:
    """Seed into an empty database. Raises SeedError (unknown profile, database not empty)."""
    if profile not in ("demo", "bench"):
        raise SeedError(f"unknown profile {profile!r}: use demo or bench")
    summary = SeedSummary(profile=profile, seed=seed)
    signer = Signer(get_settings().resolved_secret_key())
    with database.unit_of_work() as db:
        if not _is_empty(db):
            if only_if_empty:
                summary.skipped = True
                return summary
            raise SeedError("the database already holds branches; seed only an empty database")
        rng = random.Random(seed)
        if profile == "demo":
            specs = DEMO_BRANCHES
            customer_count = customers or 240
        else:
            specs = _bench_branches(branches or 20)
            customer_count = customers or 50_000
        _seed_bank(
            db, rng, summary, specs, customer_count, signer,
            demo_users=profile == "demo", history_days=history_days, seed=seed,
        )  # fmt: skip
        if profile == "demo":  # online-banking logins for demo customers who hold accounts
            summary.counts["portal logins"] = enrol_demo_customers(db, now=SEED_EPOCH)
            # survey answers for about 30% of the past visits, so the dashboards have history
            summary.counts["survey responses"] = seed_responses(db, seed=seed)
            summary.counts["loan products"] = seed_products(db, now=SEED_EPOCH)
            summary.counts.update(seed_demo_loyalty(db, epoch=SEED_EPOCH, now=datetime.now(UTC)))
            # education library, relationship managers and risk assessments (care)
            summary.counts.update(
                seed_demo_care(db, now=SEED_EPOCH, assessed_before=datetime.now(UTC))
            )
            seed_demo_social(db, epoch=SEED_EPOCH)  # posts and replies on /social (not counted)
            # one nightly analytics run: segments, tiers and recommendations for the customer 360
            summary.counts.update(_run_analytics(db, now=datetime.now(UTC)))
        append_audit(
            db,
            action="seed.profile",
            object_type="database",
            now=datetime.now(UTC),
            actor_label="cli",
            detail={"profile": profile, "seed": seed, **summary.counts},
        )
    return summary


def _run_analytics(db: Session, *, now: datetime) -> dict[str, int]:
    from branchdesk.analytics.pipeline import run_pipeline  # DuckDB and scikit-learn: load late

    run = run_pipeline(db, engine_name="duckdb", as_of=now.date(), now=now)
    return {"customers analysed": run.customers, "recommendations": run.recommendations}


def _seed_bank(
    db: Session,
    rng: random.Random,
    summary: SeedSummary,
    specs: list[BranchSpec],
    customer_count: int,
    signer: Signer,
    *,
    demo_users: bool,
    history_days: int,
    seed: int = 0,
) -> None:
    now = SEED_EPOCH
    service_ids: dict[str, uuid.UUID] = {}
    for code, names, prefix, minutes, target, documents, script in SERVICES:
        service_id = _uuid(rng)
        service_ids[code] = service_id
        db.add(
            ServiceType(
                id=service_id,
                code=code,
                name_zh_hant=names[0],
                name_zh_hans=names[1],
                name_en=names[2],
                ticket_prefix=prefix,
                standard_handling_minutes=minutes,
                target_max_wait_minutes=target,
                required_documents=documents,
                script=script,
                current_version=1,
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
        db.flush()
        db.add(
            ServiceStandardVersion(
                id=_uuid(rng),
                service_type_id=service_id,
                version=1,
                standard_handling_minutes=minutes,
                target_max_wait_minutes=target,
                required_documents=documents,
                script=script,
                change_note="seeded standard",
                changed_by_id=None,
                changed_by_label="seed",
                changed_at=now,
            )
        )
    branch_ids: dict[str, uuid.UUID] = {}
    counter_rows = 0
    past_tickets = 0
    for index, spec in enumerate(specs):
        branch_id = _uuid(rng)
        branch_ids[spec.code] = branch_id
        db.add(
            Branch(
                id=branch_id,
                code=spec.code,
                name_zh_hant=spec.names[0],
                name_zh_hans=spec.names[1],
                name_en=spec.names[2],
                address=spec.address,
                region=spec.region,
                timezone=spec.timezone,
                phone=f"+886-2-{rng.randrange(10**7, 10**8)}",
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
        db.flush()
        for weekday in range(5):
            db.add(
                OpeningHours(
                    branch_id=branch_id, weekday=weekday, opens_at=time(9), closes_at=time(17)
                )
            )
        if spec.saturday:
            db.add(
                OpeningHours(branch_id=branch_id, weekday=5, opens_at=time(9), closes_at=time(13))
            )
        for on, name in HOLIDAYS[spec.timezone]:
            db.add(
                Holiday(id=_uuid(rng), branch_id=branch_id, on=date.fromisoformat(on), name=name)
            )
        for code in service_ids:
            db.add(
                BranchService(
                    branch_id=branch_id, service_type_id=service_ids[code], is_enabled=True
                )
            )
        # The demo is tried at any hour, so its queues take tickets outside opening hours too;
        # real branches keep the default (tickets only while the branch is open).
        db.add(
            QueueSettings(branch_id=branch_id, enforce_opening_hours=not demo_users, updated_at=now)
        )
        db.flush()
        counter_ids: dict[str, uuid.UUID] = {}
        for counter_code, name, is_vip, codes in COUNTERS:
            counter_id = _uuid(rng)
            counter_ids[counter_code] = counter_id
            db.add(
                Counter(
                    id=counter_id,
                    branch_id=branch_id,
                    code=counter_code,
                    name=name,
                    status=CounterStatus.closed,
                    is_vip=is_vip,
                    created_at=now,
                    updated_at=now,
                )
            )
            db.flush()
            db.execute(
                insert(counter_services),
                [{"counter_id": counter_id, "service_type_id": service_ids[c]} for c in codes],
            )
            counter_rows += 1
        if demo_users and history_days:
            past_tickets += _seed_history(
                db, spec, branch_id, service_ids, counter_ids,
                seed=(seed * 1_000_003 + index) % (1 << 30), days=history_days,
            )  # fmt: skip
    summary.counts.update(branches=len(specs), services=len(SERVICES), counters=counter_rows)
    if past_tickets:
        summary.counts["past tickets"] = past_tickets
    _seed_staff(db, rng, summary, specs, branch_ids, demo_users=demo_users)
    _seed_customers(db, rng, summary, specs, branch_ids, customer_count, signer)
    if demo_users:
        _seed_appointments(db, rng, specs, branch_ids)
        from branchdesk.teller.demo import seed_demo_money

        money = seed_demo_money(
            db, branch_codes=[s.code for s in specs], seed=seed, seed_epoch=SEED_EPOCH,
            now=datetime.now(UTC),
        )  # fmt: skip
        summary.counts.update(money)


def _seed_history(
    db: Session,
    spec: BranchSpec,
    branch_id: uuid.UUID,
    service_ids: dict[str, uuid.UUID],
    counter_ids: dict[str, uuid.UUID],
    *,
    seed: int,
    days: int,
) -> int:
    """Past working days of simulated traffic, so the demo's wait model starts trained."""
    from zoneinfo import ZoneInfo

    from branchdesk.seed.queue_history import history_config, history_start, write_history

    zone = ZoneInfo(spec.timezone)
    local = datetime.now(zone)
    today, offset = local.date(), local.utcoffset()
    config = history_config(
        [(code, is_vip, codes) for code, _name, is_vip, codes in COUNTERS],
        {code: minutes for code, _n, _p, minutes, _t, _d, _s in SERVICES},
        utc_offset_hours=int(offset.total_seconds() // 3600) if offset else 8,
        start=history_start(today, days),
        days=days,
        tickets_per_day=180,
    )
    return write_history(
        db, branch_id=branch_id, branch_code=spec.code, config=config, seed=seed,
        service_ids=service_ids, prefixes={code: prefix for code, _n, prefix, *_rest in SERVICES},
        counter_ids=counter_ids,
    )  # fmt: skip


def _seed_appointments(
    db: Session,
    rng: random.Random,
    specs: list[BranchSpec],
    branch_ids: dict[str, uuid.UUID],
) -> None:
    """Demo: half-hour slots today and tomorrow (branch-local) and a few phone bookings.

    They follow the real date, so they stay out of the summary (which is the same every day).
    """
    from branchdesk.appointments.models import BookingChannel
    from branchdesk.appointments.schemas import AppointmentCreate
    from branchdesk.appointments.service import book_appointment, generate_slots, list_slots
    from branchdesk.catalog.service import business_day

    now = datetime.now(UTC)
    for spec in specs:
        branch = db.get(Branch, branch_ids[spec.code])
        assert branch is not None
        today = business_day(branch, now)
        generate_slots(
            db, branch=branch, start_on=today, days=2, minutes=30, capacity=2,
            service_codes=APPOINTMENT_SERVICES, now=now,
        )  # fmt: skip
        free = [
            s
            for day in (today, today + timedelta(days=1))
            for s in list_slots(db, branch=branch, on=day)
            if s.starts_at > now
        ]
        for slot in rng.sample(free, min(6, len(free))):
            surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
            script = 1 if spec.locale == "zh-Hans" else 0
            data = AppointmentCreate(
                slot_id=slot.id, contact_name=surname[script] + given[script],
                contact_phone=f"09{rng.randrange(10**8):08d}", locale=spec.locale,
            )  # fmt: skip
            book_appointment(db, data=data, channel=BookingChannel.phone, now=now, actor=None)


def _seed_staff(
    db: Session,
    rng: random.Random,
    summary: SeedSummary,
    specs: list[BranchSpec],
    branch_ids: dict[str, uuid.UUID],
    *,
    demo_users: bool,
) -> None:
    if not demo_users:
        summary.counts["staff"] = 0  # bench staff are provisioned by the benchmark itself
        return
    password_hash = hash_password(DEMO_PASSWORD)
    rows: list[tuple[User, list[uuid.UUID]]] = []
    for name, role, display, all_branches in BANK_STAFF:
        user = _user(rng, name, role, display, password_hash)
        rows.append((user, list(branch_ids.values()) if all_branches else []))
    for spec in specs:
        suffix = spec.code[:3].lower()
        for name, role, display in BRANCH_STAFF:
            user = _user(rng, f"{name}.{suffix}", role, f"{display} ({spec.code})", password_hash)
            user.preferred_locale = spec.locale if name != "manager" or suffix != "tpe" else None
            rows.append((user, [branch_ids[spec.code]]))
    for user, branches in rows:
        db.add(user)
        db.flush()
        if branches:
            db.execute(
                insert(user_branches), [{"user_id": user.id, "branch_id": b} for b in branches]
            )
    summary.counts["staff"] = len(rows)


def _user(rng: random.Random, username: str, role: Role, display: str, password_hash: str) -> User:
    return User(
        id=_uuid(rng),
        username=username,
        display_name=display,
        role=role,
        password_hash=password_hash,
        preferred_locale=None,
        is_active=True,
        failed_login_count=0,
        auth_epoch=0,
        password_changed_at=SEED_EPOCH,
        created_at=SEED_EPOCH,
    )


def _seed_customers(
    db: Session,
    rng: random.Random,
    summary: SeedSummary,
    specs: list[BranchSpec],
    branch_ids: dict[str, uuid.UUID],
    count: int,
    signer: Signer,
) -> None:
    rows = []
    seen: set[tuple[IdDocumentType, str]] = set()
    for index in range(1, count + 1):
        spec = specs[rng.randrange(len(specs))]
        birth = date(1945, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
        english = rng.random() < 0.15
        if english:
            first, last = rng.choice(ENGLISH_FIRST), rng.choice(ENGLISH_LAST)
            full_name, latin = f"{first} {last}", f"{first} {last}"
            id_type = IdDocumentType.passport if rng.random() < 0.6 else spec.id_type
            locale = "en"
        else:
            surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
            script = 1 if spec.locale == "zh-Hans" else 0
            full_name = surname[script] + given[script]
            latin = f"{surname[2].upper()} {given[2]}"
            id_type = spec.id_type
            locale = spec.locale
        number = _id_number(rng, id_type, birth)
        while (id_type, number) in seen:
            number = _id_number(rng, id_type, birth)
        seen.add((id_type, number))
        body = f"{index:08d}"
        rows.append(
            {
                "id": _uuid(rng),
                "customer_number": body + mod97_check_digits(body),
                "full_name": full_name,
                "latin_name": latin,
                "id_document_type": id_type.value,
                "id_number_encrypted": signer.encrypt(number),
                "id_number_hash": signer.lookup_hash(number),
                "id_number_masked": mask_identifier(number),
                "id_expires_on": date(2026, 1, 1) + timedelta(days=rng.randrange(-200, 3650)),
                "phone": f"+8869{rng.randrange(10**7, 10**8)}",
                "email": f"customer{index}@example.com",
                "birth_on": birth,
                "preferred_locale": locale,
                "has_marketing_consent": rng.random() < 0.6,
                "service_tier": "standard",  # vip only from the loyalty tier (evaluate_tiers)
                "home_branch_id": branch_ids[spec.code],
                "created_at": SEED_EPOCH,
                "updated_at": SEED_EPOCH,
            }
        )
        rng.random()  # the draw that once picked random vips: kept, so the other data stay
        if len(rows) >= 5000:
            db.execute(insert(Customer), rows)
            rows = []
    if rows:
        db.execute(insert(Customer), rows)
    db.add(ReferenceCounter(key="customer", value=count))
    summary.counts["customers"] = count


def demo_logins(database: Database) -> list[tuple[str, str, str]]:
    """(username, role, branches) of the demo staff, for the start-up banner."""
    with database.unit_of_work() as db:
        users = db.execute(select(User).order_by(User.role, User.username)).scalars().all()
        result = []
        for user in users:
            codes = db.execute(
                select(Branch.code)
                .join(user_branches, user_branches.c.branch_id == Branch.id)
                .where(user_branches.c.user_id == user.id)
                .order_by(Branch.code)
            ).scalars()
            result.append((user.username, user.role, ",".join(codes) or "all branches"))
        return result
