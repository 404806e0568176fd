"""Static files under content-hashed names, cached for a year (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

from buyergroup import static_files

STATIC = Path(__file__).resolve().parents[2] / "static"


def _static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_link_hashed_names_that_browsers_may_keep_for_a_year(client):
    urls = _static_urls(client.get("/").get_data(as_text=True))
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url) for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        original = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url.removeprefix("/static/"))
        assert response.data == (STATIC / original).read_bytes()


def test_the_plain_names_still_work_and_revalidate(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert client.get("/static/css/site.000000000000.css").status_code == 404


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "a.css").write_text("body { color: black }")
    (tmp_path / ".hidden").write_text("x")
    first = static_files.build_manifest(tmp_path)
    (tmp_path / "css" / "a.css").write_text("body { color: navy }")
    second = static_files.build_manifest(tmp_path)
    assert list(first) == ["css/a.css"]  # hidden files are not served under a hash
    assert first["css/a.css"] != second["css/a.css"]
    assert re.fullmatch(r"css/a\.[0-9a-f]{12}\.css", second["css/a.css"])


def test_hashed_urls_can_be_switched_off(app_factory, tmp_path):
    app = app_factory(f"sqlite:///{tmp_path / 'off.sqlite'}", STATIC_HASHED_URLS=False)
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="css/site.css") == "/static/css/site.css"
