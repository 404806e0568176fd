"""search: the index's generation (search.index_state), for cached search results

Revision ID: d4e5f6a7b8c9
Revises: c3d9e1f0a712
Create Date: 2026-12-01 16:00:00.000000

PostgreSQL only (the search schema). A frozen copy of the statements that
postgres_backend.SCHEMA_UPGRADES added for issue 12: every write to the index takes a new
generation from the sequence, and searches key their cached results on it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'c3d9e1f0a712'
branch_labels = None
depends_on = None


STATEMENTS = [
    "CREATE SEQUENCE IF NOT EXISTS search.index_generations",
    "CREATE TABLE IF NOT EXISTS search.index_state (id smallint PRIMARY KEY "
    "CHECK (id = 1), generation bigint NOT NULL)",
    "INSERT INTO search.index_state (id, generation) "
    "VALUES (1, nextval('search.index_generations')) ON CONFLICT (id) DO NOTHING",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS search.index_state")
    op.execute("DROP SEQUENCE IF EXISTS search.index_generations")
