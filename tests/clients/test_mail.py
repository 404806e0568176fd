"""Mail as a mail client reads it: received by a real SMTP server, the raw bytes kept and
parsed with ``email.parser`` and ``policy.default``: Date, Message-ID, Auto-Submitted, a
text and an HTML part saying the same, calendar parts with method= and charset=utf-8, and a
subject that is folded at spaces, never right after "Subject:"."""

from __future__ import annotations

import email.policy
import os
import threading
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest

from buyergroup.events import service
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from tests.clients.conftest import in_own_thread

# What a mail client reads is the same whatever the database.
pytestmark = pytest.mark.one_database

START = datetime(2030, 10, 28, 10, 0)


class RawMailbox:
    """An aiosmtpd handler that keeps each message's bytes as the server received them."""

    def __init__(self):
        self.raw: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.raw.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def raw_mailbox(app):
    from aiosmtpd.controller import Controller

    from tests.conftest import _free_port

    handler = RawMailbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    before = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    yield handler
    app.config["MAIL_PORT"] = before
    controller.stop()


def read(raw: bytes):
    return BytesParser(policy=email.policy.default).parsebytes(raw)


LONG_TITLE = ("Atelier 3 : remédiation et diligence raisonnée dans les chaînes "
              "d’approvisionnement des ordinateurs portables")


@pytest.fixture
def french_registration(make_event, make_member, raw_mailbox):
    event = make_event(title=LONG_TITLE, starts_local=START,
                       ends_local=START + timedelta(hours=2),
                       description="Nous comparons les **clauses** : démarche raisonnée.")
    person = make_member("ines@example.org", name="Inès Lefèvre", locale="fr")
    service.register(person, event)
    db.session.commit()
    deliver_due()
    [raw] = raw_mailbox.raw
    return raw, event


def test_headers_a_mail_client_needs(french_registration):
    raw, _event = french_registration
    message = read(raw)
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "fr"
    assert LONG_TITLE in str(message["Subject"])


def test_the_subject_is_folded_at_spaces_not_after_its_name(french_registration):
    raw, _event = french_registration
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    lines = head.split("\r\n")
    [index] = [i for i, line in enumerate(lines) if line.lower().startswith("subject:")]
    first = lines[index]
    assert first.strip().lower() != "subject:", "folded right after Subject:"
    assert len(first) > len("Subject: ") + 10
    assert all(len(line) <= 998 for line in lines)


def test_a_text_and_an_html_part_say_the_same(french_registration):
    raw, event = french_registration
    message = read(raw)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert message.get_body(("plain",)).get_content_charset() == "utf-8"
    for line in ("Inès Lefèvre", event.title, f"http://buyergroup.test/events/{event.id}"):
        assert line in text
        assert line in html
    assert f'<a href="http://buyergroup.test/events/{event.id}"' in html
    assert '<html lang="fr">' in html


def test_the_calendar_part_says_its_method_and_charset(french_registration, icaljs):
    raw, event = french_registration
    message = read(raw)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    # Decoded as the part says (no "raisonn��e").
    text = part.get_content()
    assert "raisonnée" in text.replace("\r\n ", "")
    [invited] = icaljs(part.get_payload(decode=True))["events"]
    assert invited["uid"] == event.uid
    assert "raisonnée" in invited["description"]


@pytest.mark.browser
def test_the_html_part_is_readable_in_a_browser(french_registration, tmp_path):
    """A screenshot of the HTML part as a mail client's viewer shows it (Chromium)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        (pytest.fail if os.environ.get("REQUIRE_BROWSER") == "1" else pytest.skip)("no Chromium")
    raw, event = french_registration
    html = read(raw).get_body(("html",)).get_content()
    out = tmp_path / "mail.png"
    event_url = f"http://buyergroup.test/events/{event.id}"  # read here: the thread has no app

    def look() -> int:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 720, "height": 900})
            page.set_content(html)
            links = page.get_by_role("link", name=event_url)
            count = links.count()
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        return count

    assert in_own_thread(look) >= 1
    assert out.stat().st_size > 5000


def test_every_mail_has_the_headers_and_both_parts(client, mailbox, make_user):
    """Mail of another domain (a password reset), as the mailbox fixture parses it."""
    make_user("sofie@example.org", name="Sofie", locale="de")
    response = client.post("/password/forgot", data={"email": "sofie@example.org"})
    response.get_data()
    response.close()  # the mail leaves once the response is closed, as a server does
    message = mailbox.last_to("sofie@example.org")
    assert message["Date"] and message["Message-ID"]
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = next(word for word in text.split() if "/password/reset/" in word)
    assert f'href="{link}"' in html
    assert '<html lang="de">' in html


def test_the_html_part_is_valid_html(french_registration, vnu, tmp_path):
    raw, _event = french_registration
    html = read(raw).get_body(("html",)).get_content()
    assert not vnu({"mail": html}, tmp_path)
