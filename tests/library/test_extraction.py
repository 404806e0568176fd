"""Reading attachment text: in a child process, within a time and size limit, never fatal."""

from __future__ import annotations

import ast
import hashlib
import textwrap
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library import extraction, uploads
from buyergroup.library.models import Attachment, ExtractionState
from tests.library.conftest import broken_pdf_bytes, docx_bytes, odt_bytes, pdf_bytes


@pytest.fixture
def fake_worker(tmp_path, monkeypatch):
    """Replace the worker script with one that misbehaves as told."""

    def install(body: str):
        script = tmp_path / "worker.py"
        script.write_text("import sys, time\n" + textwrap.dedent(body), encoding="utf-8")
        monkeypatch.setattr(extraction, "WORKER", script)
        return script

    return install


def stored(data: bytes, name: str) -> str:
    return uploads.store_bytes(data, name, uploads.check_content(data, name)).stored_name


class TestWorker:
    @pytest.mark.parametrize(("name", "data", "expected"), [
        ("clause.pdf", pdf_bytes(), "Electronics Watch contract conditions"),
        ("articles.docx", docx_bytes("Intro paragraph", "Cell in a table"), "Cell in a table"),
        ("template.odt", odt_bytes("Tier two smelters"), "Tier two smelters"),
        ("notes.md", "# Titel\n\nDiligence raisonnée".encode(), "Diligence raisonnée"),
    ], ids=["pdf", "docx table", "odt", "markdown"])
    def test_reads_each_accepted_type(self, app, name, data, expected):
        outcome = extraction.extract_file(stored(data, name))
        assert outcome.ok, outcome.error
        assert expected in outcome.text

    def test_every_cell_of_a_large_word_table_is_read(self, app):
        # Criteria tables are long; cells were once lost when their proxies were collected.
        import io

        import docx

        document = docx.Document()
        table = document.add_table(rows=40, cols=3)
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.text = f"cell-{r}-{c}"
        table.cell(0, 0).merge(table.cell(0, 1))  # a merged cell is read once
        out = io.BytesIO()
        document.save(out)
        name = stored(out.getvalue(), "criteria.docx")
        for _ in range(2):
            text = extraction.extract_file(name).text
            assert all(f"cell-{r}-2" in text for r in range(40))
            assert all(f"cell-{r}-{c}" in text for r in range(1, 40) for c in range(3))
            assert text.count("cell-0-0") == 1

    def test_a_broken_pdf_fails_with_a_reason(self, app):
        outcome = extraction.extract_file(stored(broken_pdf_bytes(), "broken.pdf"))
        assert not outcome.ok and outcome.error

    def test_a_missing_file_fails_cleanly(self, app):
        assert extraction.extract_file("0" * 32 + ".pdf").error == "the stored file is missing"

    def test_a_reader_that_hangs_is_stopped_at_the_time_limit(self, app, fake_worker,
                                                              monkeypatch):
        fake_worker("time.sleep(30)\n")
        monkeypatch.setitem(app.config, "EXTRACTION_TIMEOUT_SECONDS", 1)
        started = time.monotonic()
        outcome = extraction.extract_file(stored(b"hello", "a.txt"))
        assert time.monotonic() - started < 5
        assert outcome.error == "reading took longer than 1 seconds"

    def test_text_beyond_the_size_limit_is_cut(self, app, fake_worker, monkeypatch):
        # A reader that ignores its limit: the parent stops reading and cuts the text.
        fake_worker("sys.stdout.write('word ' * 2_000_000)\n")
        monkeypatch.setitem(app.config, "EXTRACTION_MAX_TEXT_BYTES", 100_000)
        outcome = extraction.extract_file(stored(b"hello", "a.txt"))
        assert outcome.ok and outcome.truncated
        assert len(outcome.text.encode()) == 100_000

    def test_the_real_worker_keeps_to_its_limit(self, app, monkeypatch):
        monkeypatch.setitem(app.config, "EXTRACTION_MAX_TEXT_BYTES", 1000)
        outcome = extraction.extract_file(stored(("é" * 5000).encode(), "long.txt"))
        assert outcome.ok and len(outcome.text.encode()) <= 1000

    def test_a_crashing_reader_reports_its_last_words(self, app, fake_worker):
        fake_worker("print('ValueError: nested filters too deep', file=sys.stderr); "
                    "sys.exit(1)\n")
        outcome = extraction.extract_file(stored(b"hello", "a.txt"))
        assert outcome.error == "ValueError: nested filters too deep"


def add_pending(item, data: bytes, name: str) -> Attachment:
    file = uploads.store_bytes(data, name, uploads.check_content(data, name))
    attachment = Attachment(original_name=name, stored_name=file.stored_name,
                            content_type=file.content_type, size=file.size,
                            sha256=hashlib.sha256(data).hexdigest())
    item.attachments.append(attachment)
    db.session.commit()
    return attachment


class TestPendingFiles:
    def test_the_command_reads_what_is_pending_and_only_that(self, app, make_item):
        item = make_item()
        good = add_pending(item, pdf_bytes(), "good.pdf")
        bad = add_pending(item, broken_pdf_bytes(), "bad.pdf")
        result = CliRunner().invoke(args=["library", "extract"], cli=app.cli,
                                    obj=_script_info(app))
        assert result.exit_code == 0, result.output
        assert "Read 1 file(s); 1 could not be read." in result.output
        db.session.expire_all()
        assert db.session.get(Attachment, good.id).extraction_state is ExtractionState.done
        assert db.session.get(Attachment, bad.id).extraction_state is ExtractionState.failed
        again = CliRunner().invoke(args=["library", "extract"], cli=app.cli,
                                   obj=_script_info(app))
        assert "Read 0 file(s); 0 could not be read." in again.output

    def test_extracted_text_reaches_the_search_index(self, app, client, make_item):
        item = make_item(title="Clause with an annex")
        add_pending(item, odt_bytes("Smelter audit register"), "annex.odt")
        assert "Clause with an annex" not in client.get("/library?q=smelter").get_data(
            as_text=True)
        extraction.extract_pending()
        assert "Clause with an annex" in client.get("/library?q=smelter").get_data(as_text=True)

    def test_a_nul_in_extracted_text_is_never_stored(self, app, make_item, fake_worker):
        fake_worker("sys.stdout.write('before\\x00after')\n")
        item = make_item()
        attachment = add_pending(item, b"plain", "a.txt")
        extraction.extract_pending()
        db.session.expire_all()
        text = db.session.scalar(select(Attachment.extracted_text).where(
            Attachment.id == attachment.id))
        assert text == "beforeafter"


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_the_worker_does_not_import_the_web_app():
    # It starts for every file: importing Flask and the app would cost time for nothing.
    tree = ast.parse(extraction.WORKER.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert "buyergroup" not in imported and "flask" not in imported
    assert {"pypdf", "docx", "odf"} <= imported
