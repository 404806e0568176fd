"""library: the item authors indexed by member

Revision ID: c6f1a8e2d7b4
Revises: b5e8d2c4a913
Create Date: 2026-12-03 18:00:00.000000

Which items a member co-authored is asked on every signed-in request (the header's
notification count checks it for items the member may be told about, the home page lists
their drafts); without an index on ``user_id`` each asking read the whole table.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c6f1a8e2d7b4'
down_revision = 'b5e8d2c4a913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_library_item_authors_user_id", "library_item_authors", ["user_id"])


def downgrade():
    op.drop_index("ix_library_item_authors_user_id", table_name="library_item_authors")
