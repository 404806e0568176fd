"""Static files under content-hashed names, cached by browsers and proxies for a year.

``url_for('static', filename='css/site.css')`` builds ``/static/css/site.3f2a9c1b7e4d.css``:
the name holds the first 12 hex digits of the file's SHA-256, computed once when the app
starts (``install``). A changed file gets a new name, so a name can be cached for good
(``Cache-Control: public, max-age=31536000, immutable``): a returning visitor's browser
asks for none of the page's styles, scripts or images again. The plain names still work,
with Flask's usual revalidation (for links from outside, and for files added after the
start, which have no hashed name until the next one).

Templates need nothing new: a ``url_defaults`` hook swaps the name as the URL is built.
Off with ``STATIC_HASHED_URLS = False`` (the default when debugging, where files change
under a running server). Compression belongs to the proxy (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, current_app, send_from_directory

FAR_FUTURE = 365 * 24 * 3600
HASH_LENGTH = 12
IMMUTABLE = f"public, max-age={FAR_FUTURE}, immutable"


def hashed_name(filename: str, digest: str) -> str:
    """``css/site.css`` -> ``css/site.<digest>.css`` (the extension stays last, for the
    content type)."""
    directory, _, name = filename.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    hashed = f"{stem}.{digest}.{extension}" if dot and stem else f"{name}.{digest}"
    return f"{directory}/{hashed}" if directory else hashed


def build_manifest(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Every file under ``folder`` (its path with "/" separators) -> its hashed name."""
    root = Path(folder)
    manifest: dict[str, str] = {}
    if not root.is_dir():
        return manifest
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # editors' and tools' hidden files are not the site's
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
        name = path.relative_to(root).as_posix()
        manifest[name] = hashed_name(name, digest)
    return manifest


def install(app: Flask) -> None:
    """Hash the static files once and serve them under their hashed names (call from
    ``create_app``, after the config is known)."""
    enabled = app.config.get("STATIC_HASHED_URLS")
    if enabled is None:
        enabled = not app.debug
    if not enabled or not app.static_folder:
        return
    manifest = build_manifest(app.static_folder)
    originals = {hashed: name for name, hashed in manifest.items()}
    app.extensions["buyergroup.static"] = manifest

    @app.url_defaults
    def _hashed_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static":
            filename = values.get("filename")
            if filename in manifest:
                values["filename"] = manifest[filename]

    def static(filename: str):
        original = originals.get(filename)
        if original is None:  # a plain name: Flask's own handling, revalidated
            return current_app.send_static_file(filename)
        response = send_from_directory(current_app.static_folder, original,
                                       max_age=FAR_FUTURE)
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    app.view_functions["static"] = static
