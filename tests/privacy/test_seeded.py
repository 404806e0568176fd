"""Export and erasure on the demo's real data: every seeded member can take their data
away and be erased, and the library keeps every published item readable."""

from __future__ import annotations

import io
import json
import time
import zipfile

from sqlalchemy import select

from buyergroup.accounts.models import User
from buyergroup.errors import InvariantError
from buyergroup.extensions import db
from buyergroup.library.models import ItemAuthor, ItemStatus, LibraryItem, Visibility
from buyergroup.privacy import service
from buyergroup.search.service import apply_pending


def test_every_seeded_member_exports_and_is_erased(seeded_app):
    authored = db.session.scalars(
        select(LibraryItem.id).distinct()
        .join(ItemAuthor, ItemAuthor.item_id == LibraryItem.id)
        .where(LibraryItem.status == ItemStatus.published,
               LibraryItem.visibility == Visibility.public, ItemAuthor.user_id.is_not(None))
    ).all()
    assert authored, "the seed has public items by members"
    admin_id = db.session.scalar(select(User.id).where(User.email == "admin@example.org"))
    names, refused, export_s, erase_s = [], 0, [], []
    # The index takes the erasures' updates in one commit at the end, not one per erasure:
    # each small Whoosh commit of the seed's long documents cost about 0.2 s (half of it
    # merging segments): most of this test's time, and not what it is about.
    seeded_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    try:
        for user_id in db.session.scalars(select(User.id).where(User.id != admin_id)
                                          .order_by(User.id)).all():
            user, admin = db.session.get(User, user_id), db.session.get(User, admin_id)
            started = time.perf_counter()
            archive_bytes = service.export_zip(user)
            export_s.append(time.perf_counter() - started)
            with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
                assert json.loads(archive.read("data.json"))["profile"]["email"] == user.email
            name = user.name
            try:
                started = time.perf_counter()
                service.erase_member(admin, user, confirm=user.email)
                erase_s.append(time.perf_counter() - started)
            except InvariantError:
                db.session.rollback()  # a group's only organiser: hands over first
                refused += 1
                continue
            db.session.commit()
            names.append(name)
    finally:
        seeded_app.config["SEARCH_APPLY_ON_COMMIT"] = True
    while apply_pending():
        pass
    assert len(names) >= 10
    client = seeded_app.test_client()
    for item_id in authored:
        page = client.get(f"/library/{item_id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert not [name for name in names if name in text], item_id
    search = client.get("/library?q=laptop")
    assert search.status_code == 200
    assert not [name for name in names if name in search.get_data(as_text=True)]
    print(f"erased {len(names)}, refused {refused}, items checked {len(authored)}; "
          f"export max {max(export_s) * 1000:.0f} ms, erasure max {max(erase_s) * 1000:.0f} ms")
