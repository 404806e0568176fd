"""search: the index's generation (search.index_state), for cached search results; narrow
rows and LZ4 for the big values

Revision ID: d4e5f6a7b8c9
Revises: e8b2f4c61d37
Create Date: 2026-12-01 16:00:00.000000

PostgreSQL only (the search schema). A frozen copy of the statements that
postgres_backend.SCHEMA_UPGRADES added for issue 12: every write to the index takes a new
generation from the sequence, and searches key their cached results on it; what a search
reads of every match stays in the row while the big values go to the TOAST table,
compressed with LZ4 where the server supports it (rows written from now on;
``flask search reindex`` rewrites the others).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'e8b2f4c61d37'
branch_labels = None
depends_on = None


STATEMENTS = [
    'CREATE SEQUENCE IF NOT EXISTS search.index_generations',
    'CREATE TABLE IF NOT EXISTS search.index_state (id smallint PRIMARY KEY CHECK (id = 1), '
    'generation bigint NOT NULL)',
    'INSERT INTO search.index_state (id, generation) VALUES (1, '
    "nextval('search.index_generations')) ON CONFLICT (id) DO NOTHING",
    'ALTER TABLE search.search_documents SET (toast_tuple_target = 128)',
    'ALTER TABLE search.search_documents ALTER COLUMN group_key SET STORAGE MAIN, ALTER '
    'COLUMN audiences SET STORAGE MAIN, ALTER COLUMN facet_codes SET STORAGE MAIN, ALTER '
    'COLUMN sort_title SET STORAGE MAIN, ALTER COLUMN facet_kind SET STORAGE MAIN, ALTER '
    'COLUMN facet_phase SET STORAGE MAIN, ALTER COLUMN facet_product_group SET STORAGE MAIN, '
    'ALTER COLUMN facet_theme SET STORAGE MAIN, ALTER COLUMN facet_language SET STORAGE MAIN,'
    ' ALTER COLUMN facet_country SET STORAGE MAIN, ALTER COLUMN facet_organisation SET '
    'STORAGE MAIN, ALTER COLUMN facet_year SET STORAGE MAIN, ALTER COLUMN facet_ambition SET '
    'STORAGE MAIN, ALTER COLUMN facet_verification SET STORAGE MAIN',
    "DO $$ BEGIN EXECUTE 'ALTER TABLE search.search_documents ALTER COLUMN tsv SET "
    'COMPRESSION lz4, ALTER COLUMN spell SET COMPRESSION lz4, ALTER COLUMN snippet SET '
    "COMPRESSION lz4'; EXCEPTION WHEN OTHERS THEN NULL; END $$",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search.search_documents RESET (toast_tuple_target)")
    op.execute("DROP TABLE IF EXISTS search.index_state")
    op.execute("DROP SEQUENCE IF EXISTS search.index_generations")
