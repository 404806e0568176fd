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
