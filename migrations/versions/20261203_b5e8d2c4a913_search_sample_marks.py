"""search: sample marks in every document's tsvector, for searches with very many matches

Revision ID: b5e8d2c4a913
Revises: a7c3e9d1f4b2
Create Date: 2026-12-03 07:00:00.000000

PostgreSQL only (the search schema). A frozen copy of the statement that
postgres_backend.UPGRADES_BY_REVISION added for issue 12: each document's tsvector gets
"zqxsample<n>", n from a hash of its group key, so that a search matching more documents
than SEARCH_EXACT_COUNT_LIMIT can rank and count the documents of a few buckets and
estimate the rest. Rows written from now on get it from the write statement.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5e8d2c4a913'
down_revision = 'a7c3e9d1f4b2'
branch_labels = None
depends_on = None


STATEMENTS = [
    "UPDATE search.search_documents SET tsv = tsv || array_to_tsvector(ARRAY['zqxsample' || (('x' || substr(md5(group_key), 1, 8))::bit(32)::int & 63)]) WHERE NOT tsv @@ 'zqxsample0 | zqxsample1 | zqxsample2 | zqxsample3 | zqxsample4 | zqxsample5 | zqxsample6 | zqxsample7 | zqxsample8 | zqxsample9 | zqxsample10 | zqxsample11 | zqxsample12 | zqxsample13 | zqxsample14 | zqxsample15 | zqxsample16 | zqxsample17 | zqxsample18 | zqxsample19 | zqxsample20 | zqxsample21 | zqxsample22 | zqxsample23 | zqxsample24 | zqxsample25 | zqxsample26 | zqxsample27 | zqxsample28 | zqxsample29 | zqxsample30 | zqxsample31 | zqxsample32 | zqxsample33 | zqxsample34 | zqxsample35 | zqxsample36 | zqxsample37 | zqxsample38 | zqxsample39 | zqxsample40 | zqxsample41 | zqxsample42 | zqxsample43 | zqxsample44 | zqxsample45 | zqxsample46 | zqxsample47 | zqxsample48 | zqxsample49 | zqxsample50 | zqxsample51 | zqxsample52 | zqxsample53 | zqxsample54 | zqxsample55 | zqxsample56 | zqxsample57 | zqxsample58 | zqxsample59 | zqxsample60 | zqxsample61 | zqxsample62 | zqxsample63'::tsquery",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    # The marks are harmless to searches without sampling; a reindex removes them.
    pass
