"""Digest benchmark: build and queue the daily digest of N members (default 1,000).

    python -m bench.digests --members 1000
    python -m bench.digests --members 1000 --pg-url postgresql://postgres@127.0.0.1/postgres

Members belong to working groups (so they follow them automatically) and follow themes;
organisers publish items in those groups through the library service, so the notifications
are made by the signal receivers as on the site (a third are group-only items). Then one
``send_digests("daily")`` run builds, renders (text and HTML) and queues every member's
digest, each in its own transaction with its claim, as the scheduler would. Not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url


def _database(pg_url: str | None, folder: str) -> tuple[str, callable]:
    if not pg_url:
        return f"sqlite:///{folder}/bench.sqlite", lambda: None
    url = make_url(pg_url)
    name = f"bench_digests_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile the digest run")
    args = parser.parse_args()

    from buyergroup import create_app
    from buyergroup.accounts.models import Role, User
    from buyergroup.community import service
    from buyergroup.community.digests import send_digests
    from buyergroup.community.models import Notification
    from buyergroup.extensions import db
    from buyergroup.library import service as library
    from buyergroup.library.models import Visibility
    from buyergroup.mail.models import OutboxMessage
    from buyergroup.network.service import add_member, save_group
    from buyergroup.vocabulary import THEMES

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        url, drop = _database(args.pg_url, folder)
        try:
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": folder,
                "MAIL_FOLDER": os.path.join(folder, "mail"),
                "INDEX_FOLDER": os.path.join(folder, "index"),
                "SEARCH_APPLY_ON_COMMIT": False, "SECRET_KEY": "bench-secret-key-long-enough",
                "BASE_URL": "https://buyergroup.example.org",
            })
            with app.app_context():
                db.create_all()
                started = time.perf_counter()
                organiser = User(email="organiser@bench.example", name="Olga Organiser",
                                 role=Role.organiser)
                db.session.add(organiser)
                db.session.flush()
                groups = [save_group(organiser, name=f"Working group {i}", languages=["en"],
                                     join_policy="open") for i in range(args.groups)]
                themes = list(THEMES)
                locales = ["en", "nl", "fr", "de"]
                zones = ["Europe/Brussels", "Europe/Amsterdam", "Europe/Paris", "Europe/Berlin",
                         "Europe/Lisbon"]
                for n in range(args.members):
                    user = User(email=f"m{n}@bench.example", name=f"Member {n}",
                                role=Role.member, locale=rng.choice(locales),
                                timezone=rng.choice(zones))
                    db.session.add(user)
                    db.session.flush()
                    for group in rng.sample(groups, 2):
                        add_member(group, user)
                    for code in rng.sample(themes, 2):
                        service.follow(user, "theme", code)
                db.session.commit()
                for i in range(args.items):
                    group = groups[i % len(groups)]
                    item = library.create_item(
                        None, created_by=organiser, authors=[organiser], kind="clause",
                        title=f"Clause {i}: supply chain due diligence", language="en",
                        visibility=Visibility.group if i % 3 == 0 else Visibility.members,
                        group=group, themes=rng.sample(themes, 2),
                    )
                    library.publish(organiser, item)
                db.session.commit()
                made = db.session.scalar(select(func.count(Notification.id)))
                setup = time.perf_counter() - started
                started = time.perf_counter()
                if args.profile:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    report = profiler.runcall(send_digests, "daily")
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
                else:
                    report = send_digests("daily")
                elapsed = time.perf_counter() - started
                queued = db.session.scalar(select(func.count(OutboxMessage.id)))
                backend = "postgresql" if args.pg_url else "sqlite"
                print(f"backend {backend}: {args.members} members, {made} notifications "
                      f"(set-up {setup:.1f} s)")
                print(report.summary())
                print(f"digests built and queued in {elapsed:.1f} s "
                      f"({elapsed / max(report.sent, 1) * 1000:.1f} ms a member); "
                      f"{queued} outbox messages")
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()


if __name__ == "__main__":
    main()
