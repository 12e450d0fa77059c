"""Statement exports: CSV (exact, machine-readable) and PDF (reportlab, CJK CID fonts)."""

from __future__ import annotations

import csv
import io

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]  # reportlab ships no type hints
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]  # reportlab ships no type hints
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]  # reportlab ships no type hints
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]  # reportlab ships no type hints

from branchdesk.core.money import format_money
from branchdesk.portal.schemas import StatementRead
from branchdesk.portal.service.banking import major

CSV_HEADER = ("seq", "booked_at", "kind", "memo", "amount", "currency", "balance_after")
# Chinese glyphs come from the PDF viewer's CJK fonts (CID), so nothing is embedded.
CID_FONTS = {"zh-Hant": "MSung-Light", "zh-Hans": "STSong-Light"}
LABELS = {
    "zh-Hant": ("帳戶對帳單", "帳號", "期間", "筆數", "日期", "類別", "摘要", "金額", "餘額"),
    "zh-Hans": ("账户对账单", "账号", "期间", "笔数", "日期", "类别", "摘要", "金额", "余额"),
    "en": ("Account statement", "Account", "Period", "Entries", "Date", "Kind", "Memo",
           "Amount", "Balance"),
}  # fmt: skip


def statement_csv(data: StatementRead) -> str:
    """One header row, then one row per entry (newest first); amounts as plain decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in data.lines:
        writer.writerow(
            (
                line.seq,
                line.local_time,
                line.kind,
                line.memo,
                major(line.amount_minor, line.currency),
                line.currency,
                major(line.balance_after_minor, line.currency),
            )
        )
    return out.getvalue()


def _font(locale: str) -> str:
    name = CID_FONTS.get(locale)
    if name is None:
        return "Helvetica"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def statement_pdf(data: StatementRead, *, locale: str, holder: str) -> bytes:
    """A printable statement; its document subject says how many entries it lists."""
    labels = LABELS.get(locale, LABELS["en"])
    font = _font(locale)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)
    pdf.setTitle(f"{labels[0]} {data.account.number}")
    pdf.setSubject(f"{len(data.lines)} entries")
    pdf.setAuthor("branchdesk")
    _width, height = A4
    query = data.query
    period = f"{query.from_on or '...'} - {query.to_on or '...'}"

    def header() -> float:
        pdf.setFont(font, 16)
        pdf.drawString(40, height - 50, labels[0])
        pdf.setFont(font, 10)
        pdf.drawString(40, height - 70, f"{labels[1]}: {data.account.number}  {holder}")
        pdf.drawString(40, height - 84, f"{labels[2]}: {period}  ({data.timezone})")
        pdf.drawString(40, height - 98, f"{labels[3]}: {len(data.lines)}")
        y = height - 124
        for x, text in zip((40, 140, 230, 420, 500), labels[4:], strict=True):
            pdf.drawString(x, y, text)
        return float(y - 16)

    y = header()
    pdf.setFont(font, 9)
    for line in data.lines:
        if y < 50:
            pdf.showPage()
            y = header()
            pdf.setFont(font, 9)
        pdf.drawString(40, y, line.local_time)
        pdf.drawString(140, y, line.kind)
        pdf.drawString(230, y, line.memo[:36])
        pdf.drawRightString(490, y, format_money(line.amount_minor, line.currency))
        pdf.drawRightString(570, y, format_money(line.balance_after_minor, line.currency))
        y -= 14
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
