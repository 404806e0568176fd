"""Discussions in API v1: the same rules as the pages, JSON errors, the OpenAPI document."""

from __future__ import annotations

import pytest

from buyergroup.accounts.models import TokenScope
from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db


def bearer(user, scope=TokenScope.write) -> dict:
    _, secret = create_api_token(user, "script", scope=scope)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


class TestReading:
    @pytest.mark.parametrize("who, status", [
        ("visitor", 404), ("outsider", 404), ("member", 200), ("organiser", 200),
    ])
    def test_a_private_groups_threads(self, client, private_group, private_people,
                                      make_thread, who, status):
        thread = make_thread(private_group, private_people.member, title="Server audits")
        headers = {} if who == "visitor" else bearer(getattr(private_people, who))
        listing = client.get(f"/api/v1/groups/{private_group.slug}/discussions",
                             headers=headers)
        one = client.get(f"/api/v1/discussions/{thread.id}", headers=headers)
        assert listing.status_code == one.status_code == status
        if status == 200:
            assert [t["title"] for t in listing.json["items"]] == ["Server audits"]
            assert one.json["posts"][0]["is_question"] is True
        else:
            assert one.json["error"]["status"] == 404
            assert "Server audits" not in one.text

    def test_a_public_groups_threads_for_visitors(self, client, public_group, public_people,
                                                  make_thread):
        make_thread(public_group, public_people.member, title="Fair mice")
        body = client.get(f"/api/v1/groups/{public_group.slug}/discussions").json
        assert body["total"] == 1 and body["items"][0]["title"] == "Fair mice"

    def test_a_hidden_post_shows_no_text(self, client, private_group, private_people,
                                         make_thread):
        from buyergroup.discussions import service

        thread = make_thread(private_group, private_people.member)
        post = service.reply(private_people.other, thread, "Rude remark")
        service.hide_post(private_people.organiser, post, "Rude")
        db.session.commit()
        seen = client.get(f"/api/v1/discussions/{thread.id}",
                          headers=bearer(private_people.member)).json["posts"][1]
        assert seen["hidden"] is True and seen["body"] is None and seen["author"] is None
        assert "Rude remark" not in str(seen)
        assert client.get(f"/api/v1/discussions/{thread.id}",
                          headers=bearer(private_people.organiser)
                          ).json["posts"][1]["body"] == "Rude remark"


    def test_the_list_asks_as_much_for_2_threads_as_for_6(self, client, public_group,
                                                          public_people, make_thread):
        # Each thread names the library items it links: two lookups per thread before.
        from buyergroup.library import service as library
        from buyergroup.library.models import ItemStatus, Visibility
        from tests.queries import statements

        url = f"/api/v1/groups/{public_group.slug}/discussions"

        def add(start: int, stop: int) -> None:
            for n in range(start, stop):
                item = library.create_item(
                    None, created_by=public_people.member, authors=[public_people.member],
                    status=ItemStatus.published, visibility=Visibility.public,
                    kind="clause", title=f"Linked clause {n}", language="en", body="Text.")
                db.session.flush()
                make_thread(public_group, public_people.member, title=f"Question number {n}",
                            library_items=[item.id])

        def count() -> tuple[int, dict]:
            client.get(url)
            db.session.expire_all()
            with statements() as sent:
                body = client.get(url).json
            return len(sent), body

        add(0, 2)
        with_2, _ = count()
        add(2, 6)
        with_6, body = count()
        assert with_6 == with_2
        assert all(len(thread["library_items"]) == 1 for thread in body["items"])
        assert body["total"] == 6


class TestWriting:
    def test_a_member_asks_and_replies(self, client, private_group, private_people):
        headers = bearer(private_people.member)
        created = client.post(f"/api/v1/groups/{private_group.slug}/discussions",
                              headers=headers, json={
                                  "title": "Repairability scores?", "body": "Who uses them?",
                                  "product_groups": ["laptops"], "knowledge_gap": True})
        assert created.status_code == 201, created.json
        thread_id = created.json["id"]
        assert created.json["knowledge_gap"] is True
        assert created.headers["Location"].endswith(f"/api/v1/discussions/{thread_id}")
        reply = client.post(f"/api/v1/discussions/{thread_id}/replies",
                            headers=bearer(private_people.other),
                            json={"body": "We do, @priv-member."})
        assert reply.status_code == 201
        assert '<span class="mention">@priv-member</span>' in reply.json["html"]

    @pytest.mark.parametrize("payload, field", [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "ok", "body": 5}, "body"),
        ({"title": "ok", "body": "x", "themes": "circularity"}, "themes"),
        ({"title": "ok", "body": "x", "themes": ["nonsense"]}, "themes"),
        ({"title": "ok", "body": "x", "library_items": [True]}, "library_items"),
        ({"title": "ok", "body": "x", "library_items": [99999999999]}, "library_items"),
        ({"title": "ok", "body": "x", "colour": "red"}, "colour"),
    ])
    def test_bad_fields_are_400_naming_the_field(self, client, private_group,
                                                 private_people, payload, field):
        response = client.post(f"/api/v1/groups/{private_group.slug}/discussions",
                               headers=bearer(private_people.member), json=payload)
        assert response.status_code == 400
        assert field in response.json["error"]["fields"]

    def test_not_json_is_400(self, client, private_group, private_people):
        response = client.post(f"/api/v1/groups/{private_group.slug}/discussions",
                               headers=bearer(private_people.member), data="[1,")
        assert response.status_code == 400

    def test_who_may_not_write_is_told_so(self, client, public_group, public_people,
                                          make_thread, private_group):
        thread = make_thread(public_group, public_people.member)
        assert client.post(f"/api/v1/discussions/{thread.id}/replies",
                           json={"body": "x"}).status_code == 401
        assert client.post(f"/api/v1/discussions/{thread.id}/replies",
                           headers=bearer(public_people.outsider),
                           json={"body": "x"}).status_code == 403
        assert client.post(f"/api/v1/discussions/{thread.id}/replies",
                           headers=bearer(public_people.member, TokenScope.read),
                           json={"body": "x"}).status_code == 403
        # A private group's thread: an outsider cannot even learn it exists.
        assert client.post(f"/api/v1/groups/{private_group.slug}/discussions",
                           headers=bearer(public_people.outsider),
                           json={"title": "t", "body": "b"}).status_code == 404

    def test_a_locked_thread_is_409(self, client, private_group, private_people, make_thread):
        from buyergroup.discussions import service

        thread = make_thread(private_group, private_people.member)
        service.lock_thread(private_people.organiser, thread)
        db.session.commit()
        response = client.post(f"/api/v1/discussions/{thread.id}/replies",
                               headers=bearer(private_people.other), json={"body": "late"})
        assert response.status_code == 409


def test_the_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/groups/{slug}/discussions"])
    assert "get" in paths["/api/v1/discussions/{thread_id}"]
    assert "post" in paths["/api/v1/discussions/{thread_id}/replies"]
