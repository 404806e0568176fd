"""search: each document's pairs of neighbouring lexemes, for phrases

Revision ID: c6f1a8e3d207
Revises: b5e8d2c4a913
Create Date: 2026-12-03 10:00:00.000000

PostgreSQL only (the search schema). A frozen copy of the statements that
postgres_backend.UPGRADES_BY_REVISION added for issue 12: a stripped vector "pairs" beside
"tsv" holding "a b" for every two lexemes at neighbouring positions of the document's
tsvector, with a GIN index, so that a phrase asks the index for the documents holding its
words next to each other instead of reading back every document holding them anywhere.
The pairs of the rows already there are made from their tsvectors here (about a minute per
100,000 documents); rows written from now on get them from the write statement.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c6f1a8e3d207'
down_revision = 'b5e8d2c4a913'
branch_labels = None
depends_on = None


STATEMENTS = [
    "ALTER TABLE search.search_documents ADD COLUMN IF NOT EXISTS pairs tsvector NOT NULL DEFAULT ''::tsvector",
    "DO $$ BEGIN EXECUTE 'ALTER TABLE search.search_documents ALTER COLUMN pairs SET COMPRESSION lz4'; EXCEPTION WHEN OTHERS THEN NULL; END $$",
    "UPDATE search.search_documents SET pairs = array_to_tsvector(ARRAY(SELECT a.lexeme || ' ' || b.lexeme FROM (SELECT lexeme, unnest(positions) AS p FROM unnest(tsv)) AS a JOIN (SELECT lexeme, unnest(positions) AS p FROM unnest(tsv)) AS b ON b.p = a.p + 1 WHERE octet_length(a.lexeme) + octet_length(b.lexeme) < 500))",
    'CREATE INDEX IF NOT EXISTS ix_search_documents_pairs ON search.search_documents USING gin (pairs)',
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS search.ix_search_documents_pairs")
    op.execute("ALTER TABLE search.search_documents DROP COLUMN IF EXISTS pairs")
