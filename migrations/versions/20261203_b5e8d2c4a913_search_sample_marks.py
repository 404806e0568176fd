"""search: sample and facet marks in every document's tsvector, for searches with very
many matches and searches with words and filters

Revision ID: b5e8d2c4a913
Revises: a7c3e9d1f4b2
Create Date: 2026-12-03 07:00:00.000000

PostgreSQL only (the search schema). A frozen copy of the statement that
postgres_backend.UPGRADES_BY_REVISION added for issue 12: each document's tsvector gets
"zqxsample<n>", n from a hash of its group key, so that a search matching more documents
than SEARCH_EXACT_COUNT_LIMIT can rank and count the documents of a few buckets and
estimate the rest; and "zqxf<48 bits of the md5 of the code>" for each of its facet codes, which a
search with words asks the text index for. Adding lexemes a vector holds changes nothing,
so the statement can run again. Rows written from now on get them from the write
statement.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5e8d2c4a913'
down_revision = 'a7c3e9d1f4b2'
branch_labels = None
depends_on = None


STATEMENTS = [
    "UPDATE search.search_documents SET tsv = tsv || array_to_tsvector(ARRAY['zqxsample' || (('x' || substr(md5(group_key), 1, 8))::bit(32)::int & 63)] || ARRAY(SELECT 'zqxf' || left(md5(code), 12) FROM unnest(facet_codes) AS code))",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    # The marks are harmless to the code before them (no query asks for them); a reindex
    # with that code removes them.
    pass
