"""Reading rendered pages the way a user (or a screen reader) would."""

from __future__ import annotations

import lxml.html


def html(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def main_text(response) -> str:
    """The visible text of the page's main area, whitespace collapsed."""
    main = html(response).get_element_by_id("main")
    return " ".join(main.text_content().split())


def input_value(response, name: str) -> str | None:
    found = html(response).xpath(f'//*[@name="{name}"]')
    assert found, f"no field named {name}"
    element = found[0]
    if element.tag == "textarea":
        return element.text or ""
    if element.tag == "select":
        chosen = element.xpath(".//option[@selected]")
        return chosen[0].get("value") if chosen else None
    return element.get("value")


def error_by(response, field_id: str) -> str:
    """The error message shown with a field (the ``field`` macro's ``<id>-error``)."""
    doc = html(response)
    errors = doc.xpath(f'//*[@id="{field_id}-error"]')
    assert errors, f"no error shown by {field_id}"
    described = doc.xpath(f'//*[@id="{field_id}"]/@aria-describedby')
    assert described and f"{field_id}-error" in described[0].split()
    return " ".join(errors[0].text_content().split())


def form_actions(response) -> set[str]:
    return set(html(response).xpath("//form[@method='post']/@action"))
