"""Reading the text of attachments so that it becomes searchable.

Text is extracted in a child process (``extract_worker.py``) with a time limit, a memory
limit and a cap on the size of the text, never in the web worker itself: a broken or
hostile file costs at most that child. It runs right after the response to the upload has
been sent (best effort), and ``flask library extract`` (and the scheduler) picks up whatever
is still pending. A file that cannot be read is marked ``failed`` with the reason; the item
page then says so, and nothing else about the item is affected.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library.models import Attachment, ExtractionState
from buyergroup.library.uploads import extension_of, path_of

WORKER = Path(__file__).resolve().with_name("extract_worker.py")


@dataclass(frozen=True)
class Outcome:
    text: str = ""
    error: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def run_worker(path: Path, kind: str) -> Outcome:
    """Run the worker on one file, enforcing the time limit and the size of its output."""
    config = current_app.config
    timeout = config["EXTRACTION_TIMEOUT_SECONDS"]
    max_bytes = config["EXTRACTION_MAX_TEXT_BYTES"]
    command = [
        sys.executable, "-I", str(WORKER), str(path), kind, str(max_bytes), str(timeout),
        str(config["EXTRACTION_MEMORY_MB"]),
    ]
    process = subprocess.Popen(  # noqa: S603 - fixed command, our own script
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
    )
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    truncated = timed_out = False
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in selector.select(timeout=remaining):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
            if len(out) > max_bytes:
                truncated = True  # the worker should have stopped; do not wait for it
                break
            if len(err) > 65536:
                del err[:-4096]
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdout.close()
    process.stderr.close()
    if timed_out:
        return Outcome(error=f"reading took longer than {timeout} seconds")
    if process.returncode != 0 and not truncated:
        lines = bytes(err).decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"the reader stopped (status {process.returncode})"
        return Outcome(error=reason[:480])
    text = bytes(out[:max_bytes]).decode("utf-8", "ignore").replace("\x00", "")
    return Outcome(text=text, truncated=truncated or len(out) >= max_bytes)


def extract_file(stored_name: str, path: Path | None = None) -> Outcome:
    """Read one stored file (the library's, or the one at ``path`` for another domain's)."""
    path = path_of(stored_name) if path is None else path
    if not path.is_file():
        return Outcome(error="the stored file is missing")
    return run_worker(path, extension_of(stored_name))


def record(attachment, outcome: Outcome) -> None:
    """Keep what was read on the row (an ``Attachment``, or any row with the same
    ``extraction_state``, ``extracted_text`` and ``extraction_error`` columns)."""
    if outcome.ok:
        attachment.extraction_state = ExtractionState.done
        attachment.extracted_text = outcome.text.strip()
        attachment.extraction_error = "text cut at the size limit" if outcome.truncated else ""
    else:
        attachment.extraction_state = ExtractionState.failed
        attachment.extracted_text = ""
        attachment.extraction_error = outcome.error[:500]


def extract_pending(ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Read the text of pending attachments (optionally only ``ids``); commits each result.

    Like ``mail.deliver_due`` this is a job, not a request: it owns its transactions. No
    transaction stays open while a file is read, and an attachment another process has
    finished meanwhile is left alone, so running it twice at once does no harm.
    Returns (read, failed).
    """
    return extract_pending_rows(Attachment, path_of, ids=ids, limit=limit)


def extract_pending_rows(model, path_for: Callable[[str], Path], *,
                         ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """``extract_pending`` for any model whose rows keep a ``stored_name`` and the
    extraction columns (event files use it too); ``path_for(stored_name)`` is the file."""
    query = select(model.id).where(model.extraction_state == ExtractionState.pending)
    if ids is not None:
        query = query.where(model.id.in_(ids))
    pending = list(db.session.scalars(query.order_by(model.id).limit(limit)))
    db.session.rollback()
    read = failed = 0
    for row_id in pending:
        row = db.session.get(model, row_id)
        if row is None or row.extraction_state is not ExtractionState.pending:
            db.session.rollback()
            continue
        stored_name = row.stored_name
        db.session.rollback()  # end the read transaction before the (slow) child process
        outcome = extract_file(stored_name, path_for(stored_name))
        row = db.session.get(model, row_id)
        if row is None or row.extraction_state is not ExtractionState.pending:
            db.session.rollback()
            continue
        record(row, outcome)
        db.session.commit()
        if outcome.ok:
            read += 1
        else:
            failed += 1
    return read, failed


def extract_after_response(response, ids: list[int], extract: Callable | None = None):
    """Read the given attachments once ``response`` has been sent (best effort).

    ``extract(ids=...)``: another domain's ``extract_pending`` (default the library's)."""
    if not ids:
        return response
    app: Flask = current_app._get_current_object()
    extract = extract or extract_pending

    def run() -> None:
        with app.app_context():
            try:
                extract(ids=list(ids))
            except Exception:  # noqa: BLE001 - left pending for `flask library extract`
                db.session.rollback()
                app.logger.exception("Reading attachment text failed; left pending")
            finally:
                db.session.remove()

    response.call_on_close(run)
    return response
