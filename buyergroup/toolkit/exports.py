"""A basket as a tender annex: DOCX (python-docx), ODT (odfpy), Markdown and plain text.

One document model (``Annex``) is built from the basket for one reader and one language;
each writer renders it. An item's text is its Markdown body, read into blocks (headings,
paragraphs, lists) so that its own numbering survives in every format; sections that
explain rather than prescribe ("Notes for buyers", "Toelichting", "Conseils", ...) are left
out, as the item page's "Copy text" leaves them out.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

import markdown as markdown_lib
from flask_babel import force_locale
from flask_babel import gettext as _
from lxml import html as lxml_html

from buyergroup.accounts.models import User
from buyergroup.accounts.service import external_url
from buyergroup.library import permissions as library_permissions
from buyergroup.library.models import LibraryItem, TranslationKind
from buyergroup.templating import label
from buyergroup.toolkit import service
from buyergroup.toolkit.models import Basket, BasketEntry
from buyergroup.vocabulary import language_name, verification_label

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}

# Headings of sections that explain the item to buyers rather than belong in a tender.
EXPLANATION_HEADING = re.compile(
    r"^\s*(background|purpose|context|idea|notes?\b|practical notes|guidance|tips?\b|"
    r"scoring tips|why\b|when to use|experience|status|to do|questions|open questions|"
    r"achtergrond|doel\b|toelichting|aandachtspunten|wanneer|waarom|opmerkingen|"
    r"contexte|objectif|commentaire|conseils|pourquoi|quand|points d.attention|remarques|"
    r"hintergrund|zweck|hinweise|anmerkungen|warum|wann|tipps?\b)",
    re.IGNORECASE,
)


# --- Blocks: an item's Markdown as structure ------------------------------------------------


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class Block:
    kind: str  # "heading", "paragraph", "item" (a list item)
    runs: list[Run]
    level: int = 0  # heading level, or list depth (0 = top)
    marker: str = ""  # "1.", "2.", "•" for list items

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


def _runs(element, bold=False, italic=False) -> list[Run]:
    runs: list[Run] = []
    if element.text:
        runs.append(Run(element.text, bold, italic))
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in ("ul", "ol"):
            pass  # nested lists are blocks of their own
        else:
            runs.extend(_runs(child, bold or tag in ("strong", "b"), italic or tag in ("em", "i")))
        if child.tail:
            runs.append(Run(child.tail, bold, italic))
    # Collapse the whitespace HTML would collapse.
    for run in runs:
        run.text = re.sub(r"\s+", " ", run.text)
    if runs:
        runs[0].text = runs[0].text.lstrip()
        runs[-1].text = runs[-1].text.rstrip()
    return [r for r in runs if r.text]


def _list_blocks(element, depth: int) -> list[Block]:
    blocks: list[Block] = []
    ordered = element.tag == "ol"
    start = int(element.get("start", "1") or 1) if ordered else 1
    number = start
    for child in element:
        if child.tag != "li":
            continue
        paragraphs = [c for c in child if c.tag == "p"]
        runs = []
        if paragraphs:  # a "loose" list wraps its items in <p>
            for paragraph in paragraphs:
                if runs:
                    runs.append(Run(" "))
                runs.extend(_runs(paragraph))
        else:
            runs = _runs(child)
        blocks.append(Block("item", runs, level=depth,
                            marker=f"{number}." if ordered else "•"))
        number += 1
        for sub in child:
            if sub.tag in ("ul", "ol"):
                blocks.extend(_list_blocks(sub, depth + 1))
    return blocks


def blocks_of(markdown_text: str) -> list[Block]:
    """The Markdown as headings, paragraphs and numbered or bulleted list items."""
    source = markdown_lib.markdown(markdown_text or "", extensions=["tables", "sane_lists"])
    if not source.strip():
        return []
    root = lxml_html.fragment_fromstring(source, create_parent="div")
    blocks: list[Block] = []
    for element in root:
        tag = element.tag if isinstance(element.tag, str) else ""
        if re.fullmatch(r"h[1-6]", tag):
            blocks.append(Block("heading", _runs(element), level=int(tag[1])))
        elif tag in ("ul", "ol"):
            blocks.extend(_list_blocks(element, 0))
        elif tag == "table":
            for row in element.iter("tr"):
                cells = [" ".join(c.text_content().split()) for c in row if c.tag in ("td", "th")]
                blocks.append(Block("paragraph", [Run(" | ".join(cells))]))
        elif tag == "hr":
            continue
        else:
            runs = _runs(element)
            if runs:
                blocks.append(Block("paragraph", runs))
    return blocks


def tender_blocks(markdown_text: str) -> list[Block]:
    """The blocks that belong in a tender: explanatory sections left out (when something
    else is left; an item that is all explanation keeps everything)."""
    blocks = blocks_of(markdown_text)
    kept: list[Block] = []
    skipping_level: int | None = None
    for block in blocks:
        if block.kind == "heading":
            if skipping_level is not None and block.level > skipping_level:
                continue
            skipping_level = None
            if EXPLANATION_HEADING.match(block.text) or block.text.rstrip().endswith("?"):
                skipping_level = block.level
                continue
        elif skipping_level is not None:
            continue
        kept.append(block)
    if not any(b.kind != "heading" for b in kept):
        return blocks
    return kept


def plain_lines(blocks: list[Block], *, markdown: bool = False) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        text = block.text
        if markdown:
            text = "".join(
                f"**{r.text}**" if r.bold else f"*{r.text}*" if r.italic else r.text
                for r in block.runs
            )
        if block.kind == "heading":
            lines += ["", ("#" * min(block.level + 1, 6) + " " if markdown else "") + text, ""]
        elif block.kind == "item":
            indent = "   " * block.level if markdown else "    " * block.level
            marker = "-" if markdown and block.marker == "•" else block.marker
            lines.append(f"{indent}{marker} {text}")
        else:
            lines += ["", text, ""]
    # One empty line between blocks at most, none at the ends.
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def clean_text(markdown_text: str) -> str:
    """What the item page's "Copy text" copies: the tender text, numbering kept."""
    return "\n".join(plain_lines(tender_blocks(markdown_text)))


# --- The annex --------------------------------------------------------------------------------


@dataclass
class AnnexItem:
    title: str
    language: str
    blocks: list[Block]
    verification: list[str]
    verification_notes: list[Block]
    note: str
    citation: str
    url: str
    translation_note: str = ""  # "Member translation" or "No Dutch text: original in ..."
    warnings: list[str] = field(default_factory=list)  # stale labels


@dataclass
class AnnexSection:
    heading: str
    items: list[AnnexItem]


@dataclass
class Annex:
    title: str
    organisation: str
    date_text: str
    language: str
    sections: list[AnnexSection]
    labels: dict[str, str]  # the document's own words in its language

    @property
    def is_empty(self) -> bool:
        return not self.sections


def _citation(item: LibraryItem, user: User | None) -> str:
    parts = []
    if item.organisation is not None and library_permissions.can_name_organisation(
        user, item.organisation
    ):
        parts.append(item.organisation.name)
    if item.year:
        parts.append(str(item.year))
    if item.licence:
        parts.append(_("Licence: %(licence)s", licence=item.licence))
    return ", ".join(parts)


def build_annex(basket: Basket, user: User | None, language: str | None = None,
                *, stale_warnings=None) -> Annex:
    """The annex for ``user`` in ``language`` (the basket's by default): only what the
    reader may see, never a hidden or archived item."""
    language = language if language in ("en", "nl", "fr", "de") else basket.language
    view = service.view_of(basket, user)
    texts = service.texts_for(view.exportable, language, user)
    with force_locale(language):
        sections = []
        for section in view.sections:
            items = [_annex_item(entry, texts[entry.id], user, stale_warnings)
                     for entry in section.entries]
            heading = label(section.phase) if section.phase else _("Other criteria and clauses")
            sections.append(AnnexSection(heading=heading, items=items))
        owner_org = basket.owner.organisation
        labels = {
            "subtitle": _("Tender annex: criteria and contract clauses"),
            "organisation": _("Organisation"),
            "date": _("Date"),
            "language": _("Language"),
            "verification": _("Verification"),
            "note": _("Note"),
            "source": _("Source"),
            "empty": _("This basket has no items to export."),
            "contents": _("Made with Buyergroup from criteria and clauses shared by its "
                          "members. Check each text against your own procurement rules."),
        }
        return Annex(
            title=basket.name,
            organisation=owner_org.name if owner_org is not None else "",
            date_text=date.today().isoformat(),
            language=language,
            sections=sections,
            labels=labels,
        )


def _annex_item(entry: BasketEntry, chosen: service.EntryText, user: User | None,
                stale_warnings) -> AnnexItem:
    language = chosen.requested_language
    item = chosen.source
    note = ""
    if chosen.is_fallback:
        note = _("Not yet translated into %(wanted)s: this is the original text in "
                 "%(original)s.", wanted=language_name(language, in_sentence=True),
                 original=language_name(item.language, in_sentence=True))
    elif chosen.kind is TranslationKind.member:
        note = _("Member translation, not checked by the source organisation.")
    elif chosen.kind is TranslationKind.official:
        note = _("Official translation.")
    if chosen.variant is not None:
        # The reader must know this is not the clause they added but its version for
        # another legal framework (the basket page says so too).
        variant_note = _("Legal variant for %(law)s, chosen instead of the clause as added.",
                         law=chosen.variant.legal_system)
        note = f"{variant_note} {note}".strip()
    warnings = list(stale_warnings(entry.item)) if stale_warnings else []
    return AnnexItem(
        title=item.title,
        language=item.language,
        blocks=tender_blocks(item.body),
        verification=[verification_label(code) for code in item.verification],
        verification_notes=blocks_of(item.verification_notes),
        note=entry.note,
        citation=_citation(item, user),
        url=external_url("library.item", item_id=item.id),
        translation_note=note,
        warnings=warnings,
    )


def file_name(annex: Annex, fmt: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", annex.title).strip("-").lower() or "basket"
    return f"{stem[:60]}-{annex.language}.{fmt}"


def render(annex: Annex, fmt: str) -> bytes:
    if fmt == "docx":
        return to_docx(annex)
    if fmt == "odt":
        return to_odt(annex)
    if fmt == "md":
        return to_markdown(annex).encode("utf-8")
    if fmt == "txt":
        return to_text(annex).encode("utf-8")
    raise ValueError(fmt)


# --- Markdown and plain text --------------------------------------------------------------


def _text_document(annex: Annex, *, markdown: bool) -> str:
    h = (lambda level, text: "#" * level + " " + text) if markdown else (
        lambda level, text: text + "\n" + ("=" if level == 1 else "-") * len(text))
    lines = [h(1, annex.title), "", annex.labels["subtitle"], ""]
    if annex.organisation:
        lines.append(f"{annex.labels['organisation']}: {annex.organisation}")
    lines += [f"{annex.labels['date']}: {annex.date_text}",
              f"{annex.labels['language']}: {language_name(annex.language)}", "",
              annex.labels["contents"], ""]
    if annex.is_empty:
        lines += [annex.labels["empty"], ""]
    for section in annex.sections:
        lines += [h(1 if not markdown else 2, section.heading), ""]
        for item in section.items:
            lines += [("### " + item.title) if markdown else h(2, item.title), ""]
            for warning in item.warnings:
                lines += [("> **" + warning + "**") if markdown else "! " + warning, ""]
            if item.translation_note:
                lines += [("*" + item.translation_note + "*") if markdown else
                          "(" + item.translation_note + ")", ""]
            lines += plain_lines(item.blocks, markdown=markdown) + [""]
            if item.verification or item.verification_notes:
                lines.append(f"{annex.labels['verification']}: " + ", ".join(item.verification))
                lines += plain_lines(item.verification_notes, markdown=markdown) + [""]
            if item.note:
                lines += [f"{annex.labels['note']}: {item.note}", ""]
            source = ", ".join(p for p in (item.citation, item.url) if p)
            lines += [f"{annex.labels['source']}: {source}", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_markdown(annex: Annex) -> str:
    return _text_document(annex, markdown=True)


def to_text(annex: Annex) -> str:
    return _text_document(annex, markdown=False)


# --- DOCX ---------------------------------------------------------------------------------


def _docx_runs(paragraph, runs: list[Run]) -> None:
    for run in runs:
        r = paragraph.add_run(run.text)
        r.bold = run.bold or None
        r.italic = run.italic or None


def _docx_blocks(document, blocks: list[Block]) -> None:
    from docx.shared import Cm

    for block in blocks:
        if block.kind == "heading":
            paragraph = document.add_heading(level=min(block.level + 1, 9))
            _docx_runs(paragraph, block.runs)
        elif block.kind == "item":
            # The item's own numbers, written out: Word's list numbering would run on from
            # one item to the next, and the clause's "3." must stay "3.".
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.left_indent = Cm(0.75 * (block.level + 1))
            paragraph.paragraph_format.first_line_indent = Cm(-0.6)
            paragraph.add_run(block.marker + "\t")
            _docx_runs(paragraph, block.runs)
        else:
            _docx_runs(document.add_paragraph(), block.runs)


def to_docx(annex: Annex) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.title = annex.title
    document.core_properties.language = annex.language
    document.add_heading(annex.title, level=0)
    document.add_paragraph(annex.labels["subtitle"])
    if annex.organisation:
        document.add_paragraph(f"{annex.labels['organisation']}: {annex.organisation}")
    document.add_paragraph(f"{annex.labels['date']}: {annex.date_text}")
    document.add_paragraph(f"{annex.labels['language']}: {language_name(annex.language)}")
    document.add_paragraph(annex.labels["contents"]).runs[0].italic = True
    if annex.is_empty:
        document.add_paragraph(annex.labels["empty"])
    else:
        document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    for section in annex.sections:
        document.add_heading(section.heading, level=1)
        for item in section.items:
            document.add_heading(item.title, level=2)
            for warning in item.warnings:
                run = document.add_paragraph().add_run(warning)
                run.bold = True
            if item.translation_note:
                document.add_paragraph().add_run(item.translation_note).italic = True
            _docx_blocks(document, [
                Block(b.kind, b.runs, b.level + (1 if b.kind == "heading" else 0), b.marker)
                for b in item.blocks
            ])
            if item.verification or item.verification_notes:
                paragraph = document.add_paragraph()
                paragraph.add_run(f"{annex.labels['verification']}: ").bold = True
                paragraph.add_run(", ".join(item.verification))
                _docx_blocks(document, item.verification_notes)
            if item.note:
                paragraph = document.add_paragraph()
                paragraph.add_run(f"{annex.labels['note']}: ").bold = True
                paragraph.add_run(item.note)
            paragraph = document.add_paragraph()
            run = paragraph.add_run(f"{annex.labels['source']}: ")
            run.bold = True
            tail = paragraph.add_run(", ".join(p for p in (item.citation, item.url) if p))
            tail.font.size = Pt(9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- ODT ----------------------------------------------------------------------------------


def to_odt(annex: Annex) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TextProperties
    from odf.text import H, P, Span

    document = OpenDocumentText()
    styles = document.styles
    auto = document.automaticstyles
    title_style = Style(name="Title", family="paragraph")
    title_style.addElement(TextProperties(fontsize="20pt", fontweight="bold"))
    styles.addElement(title_style)
    headings = {}
    for level, size in ((1, "16pt"), (2, "13pt"), (3, "12pt"), (4, "11pt")):
        style = Style(name=f"Heading_20_{level}", displayname=f"Heading {level}",
                      family="paragraph")
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        style.addElement(ParagraphProperties(margintop="0.3cm", marginbottom="0.15cm"))
        styles.addElement(style)
        headings[level] = style
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    auto.addElement(bold)
    italic = Style(name="Italic", family="text")
    italic.addElement(TextProperties(fontstyle="italic"))
    auto.addElement(italic)
    indents = {}
    for depth in range(6):
        style = Style(name=f"ListItem{depth}", family="paragraph")
        style.addElement(ParagraphProperties(marginleft=f"{0.75 * (depth + 1)}cm",
                                             textindent="-0.6cm"))
        auto.addElement(style)
        indents[depth] = style

    def add_runs(paragraph, runs: list[Run]) -> None:
        for run in runs:
            if run.bold:
                paragraph.addElement(Span(stylename=bold, text=run.text))
            elif run.italic:
                paragraph.addElement(Span(stylename=italic, text=run.text))
            else:
                paragraph.addText(run.text)

    def heading(level: int, text: str | None = None, runs: list[Run] | None = None) -> None:
        level = min(level, 4)
        element = H(outlinelevel=level, stylename=headings[level])
        if runs is not None:
            add_runs(element, runs)
        else:
            element.addText(text or "")
        document.text.addElement(element)

    def para(text: str = "", *, style=None, runs: list[Run] | None = None) -> P:
        element = P(stylename=style) if style is not None else P()
        if runs is not None:
            add_runs(element, runs)
        elif text:
            element.addText(text)
        document.text.addElement(element)
        return element

    def blocks(items: list[Block], shift: int = 0) -> None:
        for block in items:
            if block.kind == "heading":
                heading(block.level + shift, runs=block.runs)
            elif block.kind == "item":
                para(style=indents[min(block.level, 5)],
                     runs=[Run(block.marker + " "), *block.runs])
            else:
                para(runs=block.runs)

    para(annex.title, style=title_style)
    para(annex.labels["subtitle"])
    if annex.organisation:
        para(f"{annex.labels['organisation']}: {annex.organisation}")
    para(f"{annex.labels['date']}: {annex.date_text}")
    para(f"{annex.labels['language']}: {language_name(annex.language)}")
    para(runs=[Run(annex.labels["contents"], italic=True)])
    if annex.is_empty:
        para(annex.labels["empty"])
    for section in annex.sections:
        heading(1, section.heading)
        for item in section.items:
            heading(2, item.title)
            for warning in item.warnings:
                para(runs=[Run(warning, bold=True)])
            if item.translation_note:
                para(runs=[Run(item.translation_note, italic=True)])
            blocks(item.blocks, shift=1)
            if item.verification or item.verification_notes:
                para(runs=[Run(f"{annex.labels['verification']}: ", bold=True),
                           Run(", ".join(item.verification))])
                blocks(item.verification_notes, shift=2)
            if item.note:
                para(runs=[Run(f"{annex.labels['note']}: ", bold=True), Run(item.note)])
            para(runs=[Run(f"{annex.labels['source']}: ", bold=True),
                       Run(", ".join(p for p in (item.citation, item.url) if p))])
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()
