"""Daily and weekly quality reports per branch or for the bank: HTML (printable), PDF, CSV.

A report is the dashboard's figures for one business day or one ISO week (Monday to Sunday):
the totals, the days of the period and the breakdown (branches for the bank; tellers, counters
and services for a branch). ``send_reports`` e-mails each branch manager the report of their
branches through the notifier, at most once per branch, manager and period
(``quality_report_deliveries``). Staff have no e-mail column: the address is
``<username>@<staff_mail_domain>``, as for complaint escalations.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.complaints.settings import complaint_settings
from branchdesk.core import i18n
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.identity.models import User, user_branches
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.quality import service
from branchdesk.quality.kpi import Period
from branchdesk.quality.models import ReportDelivery
from branchdesk.quality.schemas import Dashboard, KpiRow

REPORT_TEMPLATE = "quality.report"

register_template(
    REPORT_TEMPLATE,
    {
        "zh-Hant": "【服務質素{period}】{branch}（{start} 至 {end}）：號票 {tickets}，等候 p50/p90 "
        "{p50}/{p90} 分鐘，達標 {within}，棄號 {abandonment}，過號 {no_show}，CSAT {csat}，"
        "NPS {nps}，每千張投訴 {complaints}，時限達成 {sla}。完整報告：{url}",
        "zh-Hans": "【服务质量{period}】{branch}（{start} 至 {end}）：号票 {tickets}，等候 p50/p90 "
        "{p50}/{p90} 分钟，达标 {within}，弃号 {abandonment}，过号 {no_show}，CSAT {csat}，"
        "NPS {nps}，每千张投诉 {complaints}，时限达成 {sla}。完整报告：{url}",
        "en": "Service quality {period} for {branch} ({start} to {end}): {tickets} tickets, wait "
        "p50/p90 {p50}/{p90} min, within target {within}, abandonment {abandonment}, no-show "
        "{no_show}, CSAT {csat}, NPS {nps}, complaints per 1,000 {complaints}, SLA {sla}. "
        "Full report: {url}",
    },
)
_PERIOD_WORDS = {
    "zh-Hant": {"day": "日報", "week": "週報"},
    "zh-Hans": {"day": "日报", "week": "周报"},
    "en": {"day": "daily report", "week": "weekly report"},
}


class ReportPeriod(StrEnum):
    day = "day"
    week = "week"


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    csv = "csv"


def period_range(period: ReportPeriod, on: date) -> tuple[date, date]:
    if period == ReportPeriod.day:
        return on, on
    start = on - timedelta(days=on.weekday())
    return start, start + timedelta(days=6)


@dataclass(frozen=True)
class Report:
    period: ReportPeriod
    board: Dashboard


def build_report(
    db: Session,
    *,
    actor: Principal,
    period: ReportPeriod,
    on: date,
    branch_code: str | None,
    now: datetime,
) -> Report:
    """Raises Forbidden, NotFound (branch)."""
    start, end = period_range(period, on)
    board = service.dashboard(
        db, actor=actor, branch_code=branch_code, from_on=start, to_on=end, period=Period.day,
        now=now,
    )  # fmt: skip
    return Report(period=period, board=board)


CSV_COLUMNS = (
    "scope", "period", "from", "to", "row", "key", "label", "tickets", "called", "completed",
    "wait_p50_seconds", "wait_p90_seconds", "within_target", "within_target_share",
    "service_average_seconds", "service_p50_seconds", "abandoned", "abandonment_rate", "no_show",
    "no_show_rate", "complaints", "complaint_rate_per_1000", "sla_answered", "sla_in_time",
    "sla_compliance", "open_past_due", "responses", "csat_average", "nps",
)  # fmt: skip


def _cells(row: KpiRow) -> list[str]:
    values = row.model_dump()
    return ["" if values[c] is None else str(values[c]) for c in CSV_COLUMNS[7:]]


def to_csv(report: Report) -> str:
    """One line for the total, one per day, one per breakdown row (level in the ``row`` column)."""
    board = report.board
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    head = [board.scope, report.period.value, board.from_on.isoformat(), board.to_on.isoformat()]
    writer.writerow([*head, "total", board.total.key, board.total.label, *_cells(board.total)])
    for row in board.series:
        writer.writerow([*head, "day", row.bucket, row.bucket, *_cells(row)])
    for breakdown in board.breakdowns:
        for row in breakdown.rows:
            writer.writerow([*head, breakdown.level.value, row.key, row.label, *_cells(row)])
    return out.getvalue()


def _fmt(value: float | int | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "min":
        return f"{value / 60:.1f}"
    if kind == "num":
        return f"{value:.2f}"
    return str(value)


def figure_lines(row: KpiRow) -> list[tuple[str, str]]:
    """(label, value) of the headline figures, in the current locale."""
    _ = i18n.gettext
    return [
        (_("Tickets issued"), _fmt(row.tickets, "int")),
        (_("Called"), _fmt(row.called, "int")),
        (_("Completed"), _fmt(row.completed, "int")),
        (_("Wait p50 / p90 (min)"),
         f"{_fmt(row.wait_p50_seconds, 'min')} / {_fmt(row.wait_p90_seconds, 'min')}"),
        (_("Within target"), _fmt(row.within_target_share, "pct")),
        (_("Average service (min)"), _fmt(row.service_average_seconds, "min")),
        (_("Abandonment"), _fmt(row.abandonment_rate, "pct")),
        (_("No-show"), _fmt(row.no_show_rate, "pct")),
        (_("Survey answers"), _fmt(row.responses, "int")),
        ("CSAT", _fmt(row.csat_average, "num")),
        ("NPS", _fmt(row.nps, "num")),
        (_("Complaints received"), _fmt(row.complaints, "int")),
        (_("Complaints per 1,000 tickets"), _fmt(row.complaint_rate_per_1000, "num")),
        (_("SLA compliance"), _fmt(row.sla_compliance, "pct")),
        (_("Open cases past due"), _fmt(row.open_past_due, "int")),
    ]  # fmt: skip


def to_pdf(report: Report, locale: str) -> bytes:
    """A4 PDF; Chinese text through the CID fonts (STSong-Light simplified, MSung-Light else)."""
    from reportlab.lib import colors  # type: ignore[import-untyped]
    from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
    from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # type: ignore[import-untyped]

    font = "STSong-Light" if locale == "zh-Hans" else "MSung-Light"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "Normal"):
        styles[name].fontName = font
    board = report.board
    _ = i18n.gettext
    title = _("Daily report") if report.period == ReportPeriod.day else _("Weekly report")
    story = [
        Paragraph(f"{_('Quality report')} · {title}", styles["Title"]),
        Paragraph(f"{board.scope_label} · {board.from_on} – {board.to_on}", styles["Normal"]),
        Spacer(1, 12),
    ]
    table_style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ])  # fmt: skip
    lines = [[_("Figure"), _("Value")], *[[a, b] for a, b in figure_lines(board.total)]]
    story += [Table(lines, style=table_style), Spacer(1, 12)]
    head = ["", _("Tickets"), "p50", "p90", _("Within target"), _("Abandonment"), _("No-show"),
            "CSAT", "NPS"]  # fmt: skip

    def row_cells(label: str, r: KpiRow) -> list[str]:
        return [
            label[:40], str(r.tickets), _fmt(r.wait_p50_seconds, "min"),
            _fmt(r.wait_p90_seconds, "min"), _fmt(r.within_target_share, "pct"),
            _fmt(r.abandonment_rate, "pct"), _fmt(r.no_show_rate, "pct"),
            _fmt(r.csat_average, "num"), _fmt(r.nps, "num"),
        ]  # fmt: skip

    if len(board.series) > 1:
        days = [head, *[row_cells(r.bucket, r) for r in board.series]]
        story += [Paragraph(_("Day"), styles["Heading2"]), Table(days, style=table_style)]
    for breakdown in board.breakdowns:
        rows = [head, *[row_cells(r.label, r) for r in breakdown.rows]]
        story += [
            Paragraph(breakdown.level.value, styles["Heading2"]),
            Table(rows, style=table_style, repeatRows=1),
        ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"{board.scope} {board.from_on}").build(story)
    return out.getvalue()


def report_url(period: ReportPeriod, on: date, branch_code: str | None) -> str:
    branch = f"&branch={branch_code}" if branch_code else ""
    return f"/quality/report?period={period.value}&date={on.isoformat()}{branch}"


# --- the scheduled e-mail -------------------------------------------------------------------


def _managers(db: Session) -> list[tuple[User, list[Branch]]]:
    rows = db.execute(
        select(User, Branch)
        .join(user_branches, user_branches.c.user_id == User.id)
        .join(Branch, Branch.id == user_branches.c.branch_id)
        .where(User.role == Role.branch_manager, User.is_active.is_(True), Branch.is_active)
        .order_by(User.username, Branch.code)
    ).all()
    grouped: dict[str, tuple[User, list[Branch]]] = {}
    for user, branch in rows:
        grouped.setdefault(user.username, (user, []))[1].append(branch)
    return list(grouped.values())


def _claim(
    db: Session, *, period: ReportPeriod, start: date, branch: Branch, user: User, now: datetime
) -> bool:
    """Write the delivery row unless it exists (a concurrent run loses on the unique key)."""
    existing = db.execute(
        select(ReportDelivery.id).where(
            ReportDelivery.period == period.value,
            ReportDelivery.period_start == start,
            ReportDelivery.branch_id == branch.id,
            ReportDelivery.recipient_id == user.id,
        )
    ).first()
    if existing is not None:
        return False
    try:
        with db.begin_nested():
            db.add(
                ReportDelivery(
                    id=new_id(),
                    period=period.value,
                    period_start=start,
                    branch_id=branch.id,
                    recipient_id=user.id,
                    sent_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def send_reports(
    db: Session, *, actor: Principal, period: ReportPeriod, on: date, now: datetime
) -> int:
    """Queue one report message per branch manager and branch for the period containing ``on``;
    a period already sent to someone is skipped. Returns the number of messages queued."""
    start, end = period_range(period, on)
    domain = complaint_settings().staff_mail_domain
    sent = 0
    for user, branches in _managers(db):
        locale = user.preferred_locale or "zh-Hant"
        for branch in branches:
            if not _claim(db, period=period, start=start, branch=branch, user=user, now=now):
                continue
            with _Locale(locale):
                report = build_report(
                    db, actor=actor, period=period, on=on, branch_code=branch.code, now=now
                )
            t = report.board.total
            values = {
                "period": _PERIOD_WORDS.get(locale, _PERIOD_WORDS["en"])[period.value],
                "branch": report.board.scope_label, "start": start.isoformat(),
                "end": end.isoformat(), "tickets": str(t.tickets),
                "p50": _fmt(t.wait_p50_seconds, "min"), "p90": _fmt(t.wait_p90_seconds, "min"),
                "within": _fmt(t.within_target_share, "pct"),
                "abandonment": _fmt(t.abandonment_rate, "pct"),
                "no_show": _fmt(t.no_show_rate, "pct"), "csat": _fmt(t.csat_average, "num"),
                "nps": _fmt(t.nps, "num"), "complaints": _fmt(t.complaint_rate_per_1000, "num"),
                "sla": _fmt(t.sla_compliance, "pct"),
                "url": report_url(period, on, branch.code),
            }  # fmt: skip
            queue_notification(
                db,
                message=Message(
                    template=REPORT_TEMPLATE, locale=locale, values=values,
                    to_email=f"{user.username}@{domain}",
                ),
                now=now, aggregate_type="quality_report", branch_id=branch.id,
            )  # fmt: skip
            sent += 1
    return sent


class _Locale:
    """Render one report in the recipient's language, then restore the caller's."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.previous = ""

    def __enter__(self) -> None:
        self.previous = i18n.get_locale()
        i18n.set_locale(self.locale)

    def __exit__(self, *_: object) -> None:
        i18n.set_locale(self.previous)


def html_context(report: Report, on: date, branch_code: str | None) -> dict[str, object]:
    return {
        "board": report.board,
        "period": report.period.value,
        "lines": figure_lines(report.board.total),
        "fmt": _fmt,
        "base_url": report_url(report.period, on, branch_code),
    }


def render_html(report: Report, on: date, branch_code: str | None, locale: str) -> str:
    """The printable page outside a request (the CLI)."""
    from branchdesk.core.web import build_templates

    i18n.set_locale(locale)
    context = {**html_context(report, on, branch_code), "locale": locale}
    return build_templates().get_template("quality/report.html").render(context)
