"""Library fixtures: items made through the service, sample files, a fresh search index.

Every test here gets an empty database (the shared ``app`` fixture) and a search index of
its own, kept in step with the database by the search package's session hooks, so what a
test commits is searchable at once, as on the site.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from buyergroup.extensions import db
from buyergroup.library import service
from buyergroup.library.models import ItemStatus, Visibility
from buyergroup.search.expansion import invalidate_expansions
from buyergroup.search.service import init_app as init_search

ROOT = Path(__file__).resolve().parent.parent.parent
SEED_DIR = ROOT / "seed"
SEED_FILES = SEED_DIR / "files"


@pytest.fixture(autouse=True)
def fresh_search_index(request, tmp_path):
    """Each test searches an index of its own (the database is emptied between tests)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    init_search(app)  # idempotent; create_app may already have done it
    previous = app.config["INDEX_FOLDER"]
    app.config["INDEX_FOLDER"] = str(tmp_path / "index")
    app.config["SEARCH_APPLY_ON_COMMIT"] = True
    app.extensions.pop("buyergroup.search", None)
    invalidate_expansions()
    yield
    app.extensions.pop("buyergroup.search", None)
    app.config["INDEX_FOLDER"] = previous
    invalidate_expansions()


@pytest.fixture
def make_item(app, member):
    """An item created through the service: published and public unless told otherwise."""

    def factory(author=None, *, status="published", visibility="public", **fields):
        fields.setdefault("kind", "clause")
        fields.setdefault("title", "Respect for ILO core conventions")
        fields.setdefault("language", "en")
        fields.setdefault("body", "The contractor ensures the goods are made without child labour.")
        creator = author or member
        item = service.create_item(
            None, created_by=creator, authors=[creator], status=ItemStatus(status),
            visibility=Visibility(visibility), **fields,
        )
        db.session.commit()
        return item

    return factory


@pytest.fixture
def group_with_member(make_group, make_user, organiser):
    """A working group, and a member who belongs to it."""
    from buyergroup.network.service import add_member

    group = make_group("Fair servers", organiser=organiser)
    insider = make_user("insider@example.org", name="Ines Insider")
    add_member(group, insider)
    db.session.commit()
    return group, insider


# --- Sample files -----------------------------------------------------------------------------


def pdf_bytes() -> bytes:
    return (SEED_FILES / "ew-contract-conditions-en.pdf").read_bytes()


def broken_pdf_bytes() -> bytes:
    # Starts like a PDF (so it is accepted), but there is nothing a reader can parse.
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\ngarbage" * 3


def png_bytes() -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
        b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )


def docx_bytes(paragraph: str, cell: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Article"
    table.cell(0, 1).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_bytes(text: str) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    document.text.addElement(P(text=text))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a word document")
    return out.getvalue()
