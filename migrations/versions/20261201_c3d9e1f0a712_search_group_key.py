"""search: group_key on search documents (an item's translations are one result)

Revision ID: c3d9e1f0a712
Revises: b7d1e4a9c2f0
Create Date: 2026-12-01 12:20:00.000000

PostgreSQL only (the search schema). A frozen copy of postgres_backend.SCHEMA_UPGRADES.
Existing rows become groups of one (their own ref) until the next ``flask search reindex``
writes each library item's translation group. Whoosh indexes need the same reindex: until
then they search as before, one result per version.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d9e1f0a712'
down_revision = 'b7d1e4a9c2f0'
branch_labels = None
depends_on = None


STATEMENTS = [
    "ALTER TABLE search.search_documents ADD COLUMN IF NOT EXISTS group_key text "
    "NOT NULL DEFAULT ''",
    "UPDATE search.search_documents SET group_key = ref WHERE group_key = ''",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search.search_documents DROP COLUMN IF EXISTS group_key")
