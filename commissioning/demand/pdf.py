"""The Market Position Statement as a PDF (reportlab), with the same published tables as the page."""

import io
import re
from html import unescape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .reports import format_value
from .selectors import DemandQuery

_TAGS = re.compile(r"<[^>]+>")


def _plain(html: str) -> list[str]:
    """Rich text as plain paragraphs (reportlab takes only a little markup)."""
    blocks = re.split(r"</p>|</li>|</h3>|<br\s*/?>", html or "")
    return [
        unescape(_TAGS.sub("", block)).strip() for block in blocks if _TAGS.sub("", block).strip()
    ]


def statement_pdf(*, query: DemandQuery, sections: list[dict]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Market Position Statement",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story = [
        Paragraph("Market Position Statement", styles["Title"]),
        Paragraph(f"{query.start:%B %Y} to {query.end:%B %Y}", styles["Heading3"]),
    ]
    for section in sections:
        story.append(Paragraph(section["title"], styles["Heading2"]))
        if section["commentary"] is not None:
            for paragraph in _plain(section["commentary"].body):
                story.append(Paragraph(paragraph, styles["BodyText"]))
        for table in section["tables"]:
            story.append(Paragraph(table.title, styles["Heading3"]))
            if not table.rows:
                story.append(Paragraph("No figures for this period.", styles["BodyText"]))
                continue
            data = [[Paragraph(c.label, small) for c in table.columns]]
            for row in table.rows[:40]:
                data.append(
                    [Paragraph(format_value(row.get(c.key), c.kind), small) for c in table.columns]
                )
            grid = Table(data, repeatRows=1)
            grid.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f2f1")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(grid)
            if table.note:
                story.append(Paragraph(table.note, small))
            story.append(Spacer(1, 4 * mm))
    doc.build(story)
    return buffer.getvalue()
