"""A statement as a document to print or send: DOCX (python-docx) and PDF.

The PDF is written here directly (PDF 1.4, the standard Helvetica fonts, WinAnsi text):
no PDF writer is installed with the application, and a statement is text, headings, lists
and a table of signatories, which needs no more. Characters outside Windows-1252 are
replaced by "?" in the PDF (the DOCX keeps every character).
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docx import Document
from docx.shared import Pt
from flask_babel import format_date
from flask_babel import gettext as _

from buyergroup.statements.models import Statement
from buyergroup.statements.permissions import can_name_owner
from buyergroup.vocabulary import country_name

if TYPE_CHECKING:
    from buyergroup.accounts.models import User

# --- The text, as blocks both formats write -----------------------------------------------


@dataclass
class Block:
    kind: str  # "h1", "h2", "h3", "p", "li"
    text: str


_INLINE = re.compile(r"\*\*|__|`|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def _plain(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _INLINE.sub("", text).strip()


def markdown_blocks(markdown: str) -> list[Block]:
    """Headings, paragraphs and list items of a statement's Markdown, as plain text."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            blocks.append(Block("p", _plain(" ".join(paragraph))))
            paragraph.clear()

    for raw in (markdown or "").splitlines():
        line = raw.strip()
        if not line:
            end_paragraph()
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        item = re.match(r"(?:[-*+]|\d+[.)])\s+(.*)", line)
        if heading:
            end_paragraph()
            level = min(len(heading.group(1)) + 1, 3)
            blocks.append(Block(f"h{level}", _plain(heading.group(2))))
        elif item:
            end_paragraph()
            blocks.append(Block("li", _plain(item.group(1))))
        else:
            paragraph.append(line)
    end_paragraph()
    return blocks


def signatory_rows(statement: Statement) -> list[tuple[str, str, str]]:
    return [
        (s.organisation.name, country_name(s.organisation.country) if s.organisation.country
         else "", format_date(s.signed_on, "long"))
        for s in statement.signatures
    ]


def _headers() -> tuple[str, str, str]:
    return _("Organisation"), _("Country"), _("Signed on")


# --- DOCX -----------------------------------------------------------------------------------


def to_docx(statement: Statement, viewer: User | None = None) -> bytes:
    version = statement.current
    document = Document()
    document.core_properties.title = version.title
    document.add_heading(version.title, level=0)
    document.add_paragraph(_("A joint statement of %(group)s, version %(n)d.",
                             group=statement.group.name, n=version.number))
    for block in markdown_blocks(version.body):
        if block.kind == "li":
            document.add_paragraph(block.text, style="List Bullet")
        elif block.kind.startswith("h"):
            document.add_heading(block.text, level=int(block.kind[1]) - 1)
        else:
            document.add_paragraph(block.text)
    document.add_heading(_("Signatories"), level=1)
    rows = signatory_rows(statement)
    if rows:
        table = document.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, _headers(), strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text
    else:
        document.add_paragraph(_("No organisation has signed yet."))
    if statement.actions:
        document.add_heading(_("Roadmap"), level=1)
        for action in statement.actions:
            owner = action.organisation.name if can_name_owner(viewer, action) else ""
            due = format_date(action.due_on, "medium") if action.due_on else ""
            details = " · ".join(p for p in (action.status.label, owner, due) if p)
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(action.title).bold = True
            paragraph.add_run(f" ({details})").font.size = Pt(10)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- PDF ------------------------------------------------------------------------------------

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56
# Average advance of Helvetica glyphs, in thousandths of the font size: close enough to
# wrap lines inside the margins (the widest glyphs are under 1.0).
_AVERAGE = 0.52
_SIZES = {"title": 20, "h1": 16, "h2": 14, "h3": 12, "p": 11, "li": 11, "meta": 10}


def _pdf_text(text: str) -> bytes:
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(text: str, size: int, width: float) -> list[str]:
    per_line = max(int(width / (size * _AVERAGE)), 10)
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if len(candidate) > per_line and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines or [""]


class _Pages:
    def __init__(self) -> None:
        self.pages: list[list[bytes]] = [[]]
        self.y = PAGE_H - MARGIN

    def write(self, text: str, kind: str = "p", *, indent: int = 0, gap: float = 0.4) -> None:
        size = _SIZES[kind]
        font = b"F2" if kind in ("title", "h1", "h2", "h3") else b"F1"
        leading = size * 1.35
        for line in _wrap(text, size, PAGE_W - 2 * MARGIN - indent):
            if self.y - leading < MARGIN:
                self.pages.append([])
                self.y = PAGE_H - MARGIN
            self.y -= leading
            self.pages[-1].append(
                b"BT /" + font + b" %d Tf %.1f %.1f Td (" % (size, MARGIN + indent, self.y)
                + _pdf_text(line) + b") Tj ET"
            )
        self.y -= size * gap


def to_pdf(statement: Statement, viewer: User | None = None) -> bytes:
    version = statement.current
    pages = _Pages()
    pages.write(version.title, "title", gap=0.6)
    pages.write(_("A joint statement of %(group)s, version %(n)d.",
                  group=statement.group.name, n=version.number), "meta", gap=1)
    for block in markdown_blocks(version.body):
        if block.kind == "li":
            pages.write("\u2022 " + block.text, "li", indent=12)
        else:
            pages.write(block.text, block.kind, gap=0.6)
    pages.write(_("Signatories"), "h1", gap=0.6)
    rows = signatory_rows(statement)
    if not rows:
        pages.write(_("No organisation has signed yet."))
    for name, country, signed_on in rows:
        pages.write(" · ".join(p for p in (name, country, signed_on) if p), "li", indent=12)
    if statement.actions:
        pages.write(_("Roadmap"), "h1", gap=0.6)
        for action in statement.actions:
            owner = action.organisation.name if can_name_owner(viewer, action) else ""
            due = format_date(action.due_on, "medium") if action.due_on else ""
            details = " · ".join(p for p in (action.status.label, owner, due) if p)
            pages.write(f"\u2022 {action.title} ({details})", "li", indent=12)
    return _assemble(pages.pages, version.title)


def _assemble(pages: list[list[bytes]], title: str) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the pages' numbers are known
    pages_obj = add(b"")
    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                  b"/Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
               b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        stream = zlib.compress(b"\n".join(lines))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                      + stream + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
            % (pages_obj, PAGE_W, PAGE_H, content, regular, bold)
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                              + b"] /Count %d >>" % len(kids))
    info = add(b"<< /Title (" + _pdf_text(title) + b") /Producer (Buyergroup) >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, info, xref))
    return out.getvalue()
