"""A budget statement as a PDF (reportlab), for people who print or post it."""

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cms.formatting import format_pence


def statement_pdf_bytes(*, budget_holder, budget, start, end, lines, balance: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Personal budget statement for {budget_holder.full_name}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    )
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 11
    story = [
        Paragraph("Personal budget statement", styles["Title"]),
        Paragraph(
            f"{budget_holder.full_name} ({budget_holder.council_reference})", styles["Heading2"]
        ),
        Paragraph(
            f"From {start:%d %B %Y} to {end:%d %B %Y}. Money in the budget now: {balance}.", body
        ),
        Spacer(1, 6 * mm),
    ]
    rows = [["Date", "Description", "Money in", "Money out", "Balance"]]
    for line in lines:
        rows.append(
            [
                f"{line.on:%d %b %Y}",
                Paragraph(line.description, body),
                format_pence(line.money_in_pence) if line.money_in_pence else "",
                format_pence(line.money_out_pence) if line.money_out_pence else "",
                format_pence(line.balance_pence) if line.balance_pence is not None else "",
            ]
        )
    table = Table(rows, colWidths=[24 * mm, 80 * mm, 24 * mm, 24 * mm, 28 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
            ]
        )
    )
    story.append(table)
    document.build(story)
    return buffer.getvalue()
