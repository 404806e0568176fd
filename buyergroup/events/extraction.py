"""Reading the text of event files (minutes, slides) so that the site search finds them.

The library's reader does it (``library.extraction``: a child process with time and memory
limits, PDF, DOCX, ODT, TXT and MD): right after the response to the upload, and the
scheduler's ``event_file_extraction`` job picks up whatever is still pending. The text is
kept on the material; the search document of the material (``discussions.minutes_search``)
carries it, for the material's audience.
"""

from __future__ import annotations

from pathlib import Path

from buyergroup.events import storage
from buyergroup.events.models import EventMaterial
from buyergroup.library import extraction


def path_of(stored_name: str) -> Path:
    return storage.folder() / stored_name


def extract_pending(ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Read the text of event files still waiting (only ``ids`` if given); commits each.
    Returns (read, failed). Idempotent: a file read once is not read again."""
    return extraction.extract_pending_rows(EventMaterial, path_of, ids=ids, limit=limit)


def extract_after_response(response, material_ids: list[int]):
    """Read these materials' files once ``response`` has been sent (best effort)."""
    return extraction.extract_after_response(response, material_ids, extract=extract_pending)
