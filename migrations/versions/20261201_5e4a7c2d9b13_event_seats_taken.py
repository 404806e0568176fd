"""events: seats_taken, the counter that a conditional update takes seats from

Revision ID: 5e4a7c2d9b13
Revises: a4871ae347ce
Create Date: 2026-12-01 09:30:00

Registering takes a seat with ``UPDATE events SET seats_taken = seats_taken + 1 WHERE id = ?
AND seats_taken < capacity``: atomic on SQLite (which ignores ``SELECT ... FOR UPDATE``) and
PostgreSQL alike. The counter starts as the number of registrations that hold a seat.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e4a7c2d9b13'
down_revision = 'a4871ae347ce'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE events SET seats_taken = ("
        " SELECT count(*) FROM event_registrations"
        " WHERE event_registrations.event_id = events.id"
        " AND event_registrations.state = 'registered')"
    )


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('seats_taken')
