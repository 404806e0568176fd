"""outbox claims with a lease; body_html dropped

Each outbox message is claimed by one sender at a time (``claimed_by``, ``lease_until``),
so the scheduler, the request hand-over and ``flask mail deliver`` never send it twice.
``body_html`` was never written or read; an HTML part will come with its own design.

Revision ID: a4871ae347ce
Revises: d88aa0601524
Create Date: 2026-12-01 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4871ae347ce'
down_revision = 'd88aa0601524'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column('body_html')


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')
