"""Discussions of a working group: threads (questions and knowledge gaps) and their posts.

A thread's first post is its question; the others are replies. One reply may be the
accepted answer (the database refuses a second one). A thread can be marked a knowledge gap
and later be *addressed by* a library item.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import TimestampMixin, UTCDateTime, utcnow
from buyergroup.extensions import db

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.library.models import LibraryItem
    from buyergroup.network.models import WorkingGroup


thread_library_items = Table(
    "discussion_thread_items",
    db.metadata,
    Column(
        "thread_id",
        ForeignKey("discussion_threads.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "item_id",
        ForeignKey("library_items.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Thread(TimestampMixin, db.Model):
    __tablename__ = "discussion_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # The language the question is written in: selects the search analyser.
    language: Mapped[str] = mapped_column(String(8), default="en", nullable=False)
    # Vocabulary codes (buyergroup.vocabulary), space-separated: short display-only lists.
    product_group_codes: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    theme_codes: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    is_knowledge_gap: Mapped[bool] = mapped_column(default=False, nullable=False)
    addressed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_items.id", ondelete="SET NULL")
    )
    addressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_posted_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False, index=True
    )

    group: Mapped[WorkingGroup] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    addressed_by: Mapped[LibraryItem | None] = relationship(foreign_keys=[addressed_by_id])
    posts: Mapped[list[Post]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", order_by="Post.id"
    )
    library_items: Mapped[list[LibraryItem]] = relationship(
        secondary=thread_library_items, order_by="LibraryItem.id"
    )

    @property
    def product_groups(self) -> list[str]:
        return self.product_group_codes.split()

    @product_groups.setter
    def product_groups(self, codes: list[str]) -> None:
        self.product_group_codes = " ".join(dict.fromkeys(codes))

    @property
    def themes(self) -> list[str]:
        return self.theme_codes.split()

    @themes.setter
    def themes(self, codes: list[str]) -> None:
        self.theme_codes = " ".join(dict.fromkeys(codes))

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def opening_post(self) -> Post | None:
        return self.posts[0] if self.posts else None

    @property
    def replies(self) -> list[Post]:
        return self.posts[1:]

    @property
    def accepted_post(self) -> Post | None:
        return next((p for p in self.posts if p.is_accepted), None)

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.title!r}>"


class Post(TimestampMixin, db.Model):
    __tablename__ = "discussion_posts"
    # One accepted answer per thread, refused by the database itself.
    __table_args__ = (
        Index(
            "uq_discussion_posts_accepted",
            "thread_id",
            unique=True,
            sqlite_where=text("is_accepted"),
            postgresql_where=text("is_accepted"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_threads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    is_accepted: Mapped[bool] = mapped_column(default=False, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    # When its author last changed its words (for the question: its title too); None:
    # never. Accepting or hiding a post is no edit.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    thread: Mapped[Thread] = relationship(back_populates="posts")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reports: Mapped[list[PostReport]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostReport.id"
    )
    mentions: Mapped[list[PostMention]] = relationship(cascade="all, delete-orphan")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_opening(self) -> bool:
        return bool(self.thread.posts) and self.thread.posts[0] is self


class PostMention(db.Model):
    """A member this post told of an @mention: each member once, however often the post is
    edited (an edit tells only those it newly mentions)."""

    __tablename__ = "discussion_post_mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PostReport(db.Model):
    """A member tells the group's organisers that a post needs their attention."""

    __tablename__ = "discussion_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_posts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    post: Mapped[Post] = relationship(back_populates="reports")
    reporter: Mapped[User] = relationship()
