"""Small helpers shared by the account tests: links in mail, reading rendered HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.conftest import body_of

LINK = re.compile(r"https?://\S+")


def link_in(message) -> str:
    """The first link in a mail's text body (an outbox row or a received message)."""
    body = message.body_text if hasattr(message, "body_text") else body_of(message)
    links = LINK.findall(body)
    assert links, f"no link in:\n{body}"
    return links[0]


def path_of(url: str) -> str:
    return urlsplit(url).path


def token_of(url: str) -> str:
    return path_of(url).rstrip("/").rsplit("/", 1)[-1]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, dict] = {}
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: (value if value is not None else "") for name, value in attrs}
        attributes["<tag>"] = tag
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
            self.texts[attributes["id"]] = []
            if tag not in ("input", "br", "img", "meta", "link"):
                self._open.append(attributes["id"])

    def handle_endtag(self, tag):
        for element_id in reversed(self._open):
            if self.by_id[element_id]["<tag>"] == tag:
                self._open.remove(element_id)
                break

    def handle_data(self, data):
        for element_id in self._open:
            self.texts[element_id].append(data)


def element(html: str, element_id: str) -> dict:
    """The attributes of the element with ``id``, plus ``<text>``: its text content."""
    parser = _Elements()
    parser.feed(html)
    assert element_id in parser.by_id, f"no element with id={element_id!r}"
    found = dict(parser.by_id[element_id])
    found["<text>"] = " ".join("".join(parser.texts[element_id]).split())
    return found


def has_element(html: str, element_id: str) -> bool:
    parser = _Elements()
    parser.feed(html)
    return element_id in parser.by_id


def html_lang(html: str) -> str:
    match = re.search(r"<html[^>]*\blang=\"([^\"]*)\"", html)
    assert match, "no <html lang>"
    return match.group(1)


def flashes(html: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(r'<p class="flash[^"]*">(.*?)</p>', html, re.S)]
