"""Versions you can compare and restore, and texts side by side (flush, never commit).

A word-level diff (difflib) between two versions the reader may see; restoring an old
version saves its content as a new version (the library's service and rule: see
``library.service.restore_version``); and an item beside one of its translations or legal
variants, aligned paragraph by paragraph.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from itertools import zip_longest

from flask_babel import gettext as _
from markupsafe import Markup, escape

from buyergroup.accounts.models import User
from buyergroup.errors import NotFound
from buyergroup.library import fields as library_fields
from buyergroup.library import service as library_service
from buyergroup.library.models import LibraryItem
from buyergroup.toolkit import service as toolkit_service

TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass
class FieldDiff:
    name: str
    label: str
    html: Markup  # the new text with <del> and <ins> around the changed words


def _as_text(f: library_fields.Field | None, value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(f.display(v) if f else str(v) for v in value)
    if f is not None and f.type == library_fields.CHOICE:
        return f.display(value)
    return str(value)


def word_diff(old: str, new: str) -> Markup:
    """``new`` with the words removed from ``old`` in <del> and the added ones in <ins>."""
    a, b = TOKENS.findall(old or ""), TOKENS.findall(new or "")
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(b[j1:j2]))))
            continue
        if op in ("replace", "delete"):
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in ("replace", "insert"):
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(out))


def compare(old: dict, new: dict) -> list[FieldDiff]:
    """The fields that differ between two snapshots, each as a word-level diff."""
    described = library_fields.by_name()
    diffs = []
    for name in library_service.snapshot_field_names():
        if name in ("status", "visibility", "group_id", "organisation_id", "attachments"):
            continue  # the audience and files are not the text
        f = described.get(name)
        before, after = _as_text(f, old.get(name)), _as_text(f, new.get(name))
        if before == after:
            continue
        label = str(f.label) if f else name
        if name == "authors":
            label = _("Authors")
        elif name in ("kind", "language", "translation_kind"):
            label = {"kind": _("Kind"), "language": _("Language"),
                     "translation_kind": _("Kind of translation")}[name]
        diffs.append(FieldDiff(name=name, label=label, html=word_diff(before, after)))
    return diffs


def restore(actor: User, item: LibraryItem, number: int) -> bool:
    """Save an old version's text as the newest version: the library's own rule
    (``library.permissions.can_restore_version``) and service. False when it was the
    current text already, so nothing new was saved."""
    return library_service.restore_version(actor, item, number)


# --- Side by side -----------------------------------------------------------------------------


def _paragraphs(markdown_text: str) -> list[str]:
    """Markdown split into blocks at blank lines (a heading is a block of its own)."""
    blocks: list[str] = []
    for chunk in re.split(r"\n\s*\n", (markdown_text or "").strip()):
        lines = chunk.strip("\n").splitlines()
        while lines and re.match(r"#{1,6}\s", lines[0]) and len(lines) > 1:
            blocks.append(lines.pop(0))
        if lines:
            blocks.append("\n".join(lines))
    return blocks


def companions(item: LibraryItem, user: User | None,
               variants: list[LibraryItem] | None = None) -> list[LibraryItem]:
    """What an item can be shown beside: its translations and its legal variants
    (``variants``: those already looked up)."""
    if variants is None:
        variants = toolkit_service.legal_variants(item, user)
    seen: dict[int, LibraryItem] = {}
    for other in [*library_service.translations_of(item, user), *variants]:
        seen.setdefault(other.id, other)
    return list(seen.values())


def side_by_side(item: LibraryItem, other_id, user: User | None,
                 choices: list[LibraryItem] | None = None) -> tuple[LibraryItem, list]:
    """The other text and the rows: (left block, right block), aligned by paragraph."""
    if choices is None:
        choices = companions(item, user)
    other = next((o for o in choices if str(o.id) == str(other_id)), None)
    if other is None:
        raise NotFound()
    rows = list(zip_longest(_paragraphs(item.body), _paragraphs(other.body), fillvalue=""))
    return other, rows
