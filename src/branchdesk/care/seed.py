"""Demo seed: an education library in three languages, relationship managers for the customers
of each branch (its ``rm.*`` user) and risk-tolerance assessments for some of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.care.models import EducationItem, EducationKind, RiskAssessment
from branchdesk.care.rules import TOLERANCES, expires_on
from branchdesk.core.ids import new_id
from branchdesk.customers.models import Customer
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.roles import Role

# slug, kind, segment (kind, name) or None, titles (zh-Hant, zh-Hans, en), bodies (same order)
LIBRARY: tuple[
    tuple[str, EducationKind, tuple[str, str] | None, tuple[str, str, str], tuple[str, str, str]],
    ...,
] = (
    (
        "fake-bank-calls",
        EducationKind.fraud_warning,
        None,
        ("小心假冒銀行職員來電", "小心假冒银行职员来电", "Beware of calls from fake bank staff"),
        (
            "本行職員絕不會在電話中要求您提供密碼、一次性驗證碼或轉帳到「安全帳戶」。\n\n"
            "接到可疑來電，請直接掛斷，並撥打存摺背面的客服電話查證。",
            "本行职员绝不会在电话中要求您提供密码、一次性验证码或转账到“安全账户”。\n\n"
            "接到可疑来电，请直接挂断，并拨打存折背面的客服电话查证。",
            "Our staff never ask for your password, a one-time code or a transfer to a "
            "'safe account' over the phone.\n\nIf a call seems odd, hang up and ring the number "
            "on the back of your passbook.",
        ),
    ),
    (
        "time-deposit-basics",
        EducationKind.product_explainer,
        None,
        ("定期存款怎麼運作", "定期存款怎么运作", "How a time deposit works"),
        (
            "定期存款在約定期間內鎖定利率，到期一次領回本金和利息。\n\n"
            "提前支取時，利息會按活期利率計算。",
            "定期存款在约定期间内锁定利率，到期一次领回本金和利息。\n\n"
            "提前支取时，利息会按活期利率计算。",
            "A time deposit fixes the rate for the agreed term; principal and interest are paid "
            "at maturity.\n\nWithdrawn early, it earns the savings rate instead.",
        ),
    ),
    (
        "funds-and-risk-levels",
        EducationKind.product_explainer,
        ("asset_tier", "affluent"),
        ("基金風險等級 R1 至 R5", "基金风险等级 R1 至 R5", "Fund risk levels R1 to R5"),
        (
            "每支基金都有風險等級：R1 最保守，R5 波動最大。\n\n"
            "我們只會向您推薦不超過您風險承受能力（C1 至 C5）的產品，評估每年更新一次。",
            "每支基金都有风险等级：R1 最保守，R5 波动最大。\n\n"
            "我们只会向您推荐不超过您风险承受能力（C1 至 C5）的产品，评估每年更新一次。",
            "Every fund has a risk level: R1 is the most conservative, R5 the most volatile.\n\n"
            "We only suggest products within your risk tolerance (C1 to C5), assessed once a "
            "year.",
        ),
    ),
    (
        "budget-for-retirement",
        EducationKind.article,
        None,
        ("為退休生活做預算", "为退休生活做预算", "Budgeting for retirement"),
        (
            "先估算每月的基本開支，再按年期分配存款與投資。\n\n越早開始，複利的效果越明顯。",
            "先估算每月的基本开支，再按年期分配存款与投资。\n\n越早开始，复利的效果越明显。",
            "Start from your monthly essentials, then spread savings and investments over the "
            "years.\n\nThe earlier you start, the more compounding helps.",
        ),
    ),
)


def seed_demo_care(
    db: Session, *, now: datetime, assessed_before: datetime | None = None
) -> dict[str, int]:
    """Add the library, assign each branch's relationship manager to every third customer of the
    branch and store assessments for every fourth customer, made in the 270 days before
    ``assessed_before`` (default ``now``; the demo passes the real time, so that the
    assessments are still in force when the demo is run). Returns counts."""
    latest = assessed_before or now
    for slug, kind, target, titles, bodies in LIBRARY:
        db.add(
            EducationItem(
                id=new_id(), slug=slug, kind=kind, title_zh_hant=titles[0],
                title_zh_hans=titles[1], title_en=titles[2], body_zh_hant=bodies[0],
                body_zh_hans=bodies[1], body_en=bodies[2],
                segment_kind=target[0] if target else None, segment=target[1] if target else None,
                is_published=True, created_by_id=None, created_at=now,
            )
        )  # fmt: skip
    managers = {
        branch_id: user_id
        for user_id, branch_id in db.execute(
            select(User.id, user_branches.c.branch_id)
            .join(user_branches, user_branches.c.user_id == User.id)
            .where(User.role == Role.relationship_manager)
            .order_by(User.username)
        ).all()
    }
    assigned = assessed = 0
    customers = db.execute(select(Customer).order_by(Customer.customer_number)).scalars().all()
    for position, customer in enumerate(customers):
        manager = managers.get(customer.home_branch_id) if customer.home_branch_id else None
        if manager is not None and position % 3 == 0:
            customer.relationship_manager_id = manager
            assigned += 1
        if position % 4 == 0:
            when = latest - timedelta(days=30 * (position % 10))
            db.add(
                RiskAssessment(
                    id=new_id(), customer_id=customer.id,
                    risk_tolerance=TOLERANCES[position % len(TOLERANCES)], assessed_at=when,
                    expires_on=expires_on(when.date()), assessed_by_id=manager, note="demo",
                )
            )  # fmt: skip
            assessed += 1
    db.flush()
    return {"education items": len(LIBRARY), "managed customers": assigned,
            "risk assessments": assessed}  # fmt: skip
