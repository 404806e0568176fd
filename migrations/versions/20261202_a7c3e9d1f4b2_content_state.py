"""core: content_state, the generation of what visitors see (the page cache keys on it)

Revision ID: a7c3e9d1f4b2
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 02:20:00.000000

One row, changed by every transaction that writes content: visitors' pages are kept whole
per generation (buyergroup/core/page_cache.py), so a commit makes every older page
unreachable in every process.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f4b2'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'content_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_content_state_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_state')),
    )
    op.execute("INSERT INTO content_state (id, generation) VALUES (1, 0)")


def downgrade():
    op.drop_table('content_state')
