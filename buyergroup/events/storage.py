"""Files of event materials and minutes.

The checks are the library's (``buyergroup.library.uploads.check_upload``: PDF, DOCX, ODT,
TXT or MD whose content matches the extension, within the size limit). Only the folder
differs: the library's ``store_bytes`` writes into its own folder, so event files get a
minimal store of their own under ``UPLOAD_FOLDER/events``, with the same random names; the
member's file name is kept in the database and used only as the download name.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event

from buyergroup.extensions import db
from buyergroup.library.uploads import (  # noqa: F401 - re-exported for the forms
    ACCEPT_ATTRIBUTE,
    StoredFile,
    UploadRefused,
    check_upload,
    extension_of,
)

SUBFOLDER = "events"


def folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / SUBFOLDER


def store_upload(stream: BinaryIO, name: str) -> StoredFile:
    """Check one uploaded file with the library's rules and store it under a random name."""
    data, original, content_type = check_upload(stream, name)
    target_folder = folder()
    target_folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension_of(original)}"
    temporary = target_folder / f".{stored_name}.part"
    with temporary.open("xb") as out:
        out.write(data)
    temporary.replace(target_folder / stored_name)
    return StoredFile(
        stored_name=stored_name,
        original_name=original,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def delete_stored(stored_name: str | None) -> None:
    if not stored_name:
        return
    try:
        (folder() / stored_name).unlink()
    except FileNotFoundError:
        pass


def delete_after_commit(stored_names: list[str | None]) -> None:
    """Delete these files once the transaction commits (never if it rolls back).

    Services flush and the request commits at its end (``boundary``): a file deleted
    before that commit would be gone although its row stays when the request fails.
    """
    names = [name for name in stored_names if name]
    if names:
        _on_outcome(committed=lambda: [delete_stored(name) for name in names])


def discard_unless_committed(stored_name: str) -> None:
    """Delete a freshly stored file if its transaction rolls back (no row will name it)."""
    _on_outcome(rolled_back=lambda: delete_stored(stored_name))


def _on_outcome(*, committed=None, rolled_back=None) -> None:
    """Run ``committed`` after the session's next commit, or ``rolled_back`` after its next
    rollback, whichever comes first; the other is forgotten."""
    session = db.session()
    decided = []  # the first of commit and rollback decides; the other does nothing

    def on_commit(_session) -> None:
        if not decided:
            decided.append(True)
            if committed is not None:
                committed()

    def on_rollback(_session) -> None:
        if not decided:
            decided.append(True)
            if rolled_back is not None:
                rolled_back()

    # ``once``: SQLAlchemy removes each listener after it ran (removing it ourselves while
    # the session dispatches the event is not allowed).
    event.listen(session, "after_commit", on_commit, once=True)
    event.listen(session, "after_rollback", on_rollback, once=True)
