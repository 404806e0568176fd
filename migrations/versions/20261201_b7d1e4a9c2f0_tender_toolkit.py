"""tender toolkit: ambition scale and scheme, baskets, labels register, reuse register

Revision ID: b7d1e4a9c2f0
Revises: 7a0c5c0bea7e
Create Date: 2026-12-01 12:30:00

Ambition moves to one common scale stored as "1", "2", "3". The items that had the EU GPP
words keep what they meant: core = 1, comprehensive = 2, with the scheme "eu_gpp".
On PostgreSQL the search documents gain the ambition and verification facets (a reindex
fills them; ``flask search reindex``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d1e4a9c2f0'
down_revision = '7a0c5c0bea7e'
branch_labels = None
depends_on = None

NEW_FACETS = ('ambition', 'verification')


def upgrade():
    with op.batch_alter_table('library_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ambition_scheme', sa.Enum('common', 'eu_gpp', 'se_nap', 'nl_mvi', name='item_ambition_scheme', native_enum=False, length=40), nullable=True))
    op.execute("UPDATE library_items SET ambition_scheme = 'eu_gpp' WHERE ambition IN ('core', 'comprehensive')")
    op.execute("UPDATE library_items SET ambition = '1' WHERE ambition = 'core'")
    op.execute("UPDATE library_items SET ambition = '2' WHERE ambition = 'comprehensive'")

    if op.get_bind().dialect.name == 'postgresql':
        for facet in NEW_FACETS:
            op.execute(f"ALTER TABLE search.search_documents ADD COLUMN IF NOT EXISTS facet_{facet} text[] NOT NULL DEFAULT '{{}}'")
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_search_documents_facet_{facet} ON search.search_documents USING gin (facet_{facet})")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for facet in NEW_FACETS:
            op.execute(f"DROP INDEX IF EXISTS search.ix_search_documents_facet_{facet}")
            op.execute(f"ALTER TABLE search.search_documents DROP COLUMN IF EXISTS facet_{facet}")
    op.execute("UPDATE library_items SET ambition = 'core' WHERE ambition = '1'")
    op.execute("UPDATE library_items SET ambition = 'comprehensive' WHERE ambition IN ('2', '3')")
    with op.batch_alter_table('library_items', schema=None) as batch_op:
        batch_op.drop_column('ambition_scheme')
