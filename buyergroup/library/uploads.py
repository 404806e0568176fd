"""Checking and storing attachment files.

A file is accepted only when its extension AND its content agree on one of the accepted
types: PDF, DOCX, ODT (recognised by their bytes with ``filetype``, and for the zip-based
formats by the zip's own type declaration), and UTF-8 plain text or Markdown without NUL
bytes. Files are stored under random names in ``UPLOAD_FOLDER/library`` (outside
``static/``); the name the member gave is kept in the database only and used as the download
name (``secure_filename("日本語.pdf")`` would be just "pdf").
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event

from buyergroup.errors import ValidationFailed
from buyergroup.extensions import db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

# extension -> content type we store and serve
ACCEPTED_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": DOCX,
    "odt": ODT,
    "txt": "text/plain",
    "md": "text/markdown",
}
ACCEPT_ATTRIBUTE = ",".join(
    [f".{ext}" for ext in ACCEPTED_TYPES] + ["application/pdf", DOCX, ODT, "text/plain"]
)
# What a type is called in messages.
TYPE_NAMES = {
    "pdf": "PDF", "docx": "Word (.docx)", "odt": "OpenDocument (.odt)", "txt": "text (.txt)",
    "md": "Markdown (.md)",
}  # fmt: skip

SUBFOLDER = "library"


class UploadRefused(ValidationFailed):
    """The file is not one we accept; the message says why and what to do."""


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def max_upload_bytes() -> int:
    return current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / SUBFOLDER


def _accepted_list() -> str:
    return ", ".join(TYPE_NAMES.values())


def clean_original_name(name: str) -> str:
    """The member's file name for display and download: no path, no control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".") or "file"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def extension_of(name: str) -> str:
    return os.path.splitext(name)[1].lower().lstrip(".")


def _describe(kind) -> str:
    if kind is None:
        return _("something else")
    return _("a %(type)s file", type=kind.extension.upper())


def check_content(data: bytes, name: str) -> str:
    """The content type of ``data`` if its extension and content agree; else UploadRefused."""
    ext = extension_of(name)
    if not data:
        raise UploadRefused(_("“%(name)s” is empty.", name=name))
    if ext not in ACCEPTED_TYPES:
        raise UploadRefused(
            _("“%(name)s” is not a type of file we accept. Please upload a %(types)s file.",
              name=name, types=_accepted_list())
        )
    guessed = filetype.guess(data)
    if ext in ("txt", "md"):
        if guessed is not None or b"\x00" in data:
            raise UploadRefused(
                _("“%(name)s” is named like a text file but it is not plain text "
                  "(its content looks like %(found)s).", name=name, found=_describe(guessed))
            )
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRefused(
                _("“%(name)s” is not UTF-8 text. Please save it as UTF-8 and upload it again.",
                  name=name)
            ) from None
        return ACCEPTED_TYPES[ext]
    expected = ACCEPTED_TYPES[ext]
    if ext == "pdf":
        ok = guessed is not None and guessed.mime == "application/pdf"
    else:
        ok = data[:4] == b"PK\x03\x04" and _zip_declares(data, ext)
    if not ok:
        raise UploadRefused(
            _("“%(name)s” is named .%(ext)s but its content is not a %(type)s file (it looks "
              "like %(found)s). Please upload the original file.",
              name=name, ext=ext, type=TYPE_NAMES[ext], found=_describe(guessed))
        )
    return expected


def _zip_declares(data: bytes, ext: str) -> bool:
    """DOCX and ODT are zips that say what they are; read only that small declaration."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if ext == "odt":
                with archive.open("mimetype") as member:
                    return member.read(200).strip() == ODT.encode()
            with archive.open("[Content_Types].xml") as member:
                declaration = member.read(200_000)
            return b"wordprocessingml.document.main+xml" in declaration
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return False


def read_upload(stream: BinaryIO, name: str) -> bytes:
    """Read at most the size limit (plus one byte, to notice a larger file)."""
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(
            _("“%(name)s” is larger than %(mb)d MB, the largest file we accept.",
              name=name, mb=current_app.config["MAX_UPLOAD_MB"])
        )
    return data


def check_upload(stream: BinaryIO, name: str) -> tuple[bytes, str, str]:
    """Read and check one uploaded file: (bytes, cleaned name, content type)."""
    original = clean_original_name(name)
    data = read_upload(stream, original)
    return data, original, check_content(data, original)


def store_bytes(data: bytes, original_name: str, content_type: str) -> StoredFile:
    """Write checked bytes under a new random name; the original name is not used on disk."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension_of(original_name)}"
    target = folder / stored_name
    temporary = folder / f".{stored_name}.part"
    with temporary.open("xb") as out:
        out.write(data)
    temporary.replace(target)
    return StoredFile(
        stored_name=stored_name,
        original_name=original_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_upload(stream: BinaryIO, name: str) -> StoredFile:
    """Check and store one file: the same path for web uploads, the API and the seed."""
    data, original, content_type = check_upload(stream, name)
    return store_bytes(data, original, content_type)


def path_of(stored_name: str) -> Path:
    return upload_folder() / stored_name


def delete_stored(stored_name: str) -> None:
    try:
        path_of(stored_name).unlink()
    except FileNotFoundError:
        pass


# --- Files follow the transaction -------------------------------------------------------------
# A file is written before the row that names it, and a removed file must outlive a rollback
# of its removal: so deleting waits for the transaction's outcome (the request boundary
# commits at the end of the request, after the view has returned).

_PENDING = "library_files_pending"  # session.info: {"on_commit": [...], "on_rollback": [...]}
_installed = False


def _pending(session) -> dict[str, list[str]]:
    return session.info.setdefault(_PENDING, {"on_commit": [], "on_rollback": []})


def delete_after_commit(stored_names) -> None:
    """Delete these files once the current transaction commits (kept if it rolls back)."""
    _pending(db.session())["on_commit"].extend(stored_names)


def delete_on_rollback(stored_names) -> None:
    """Delete these just-stored files if the current transaction rolls back."""
    _pending(db.session())["on_rollback"].extend(stored_names)


def _after_commit(session) -> None:
    pending = session.info.pop(_PENDING, None)
    for name in (pending or {}).get("on_commit", []):
        delete_stored(name)


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    pending = session.info.pop(_PENDING, None)
    for name in (pending or {}).get("on_rollback", []):
        delete_stored(name)


def install() -> None:
    """Listen on the application's session class (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
    _installed = True
