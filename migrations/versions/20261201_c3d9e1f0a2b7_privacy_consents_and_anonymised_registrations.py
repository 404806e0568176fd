"""privacy: members' consents (email, directory, participant lists) and registrations
that can be anonymised once the retention period has passed

Revision ID: c3d9e1f0a2b7
Revises: 7a0c5c0bea7e
Create Date: 2026-12-01 12:20:00

Existing members keep what they had, except their email: "members may see my email" starts
off (the default the issue asks for), "appear in the directory" starts on, "show my name on
participant lists" starts off. Existing registrations are not shown to other participants
(nobody consented). ``event_registrations.user_id`` becomes nullable: an anonymised
registration keeps its state and attendance for the counts, but no longer names anyone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9e1f0a2b7'
down_revision = '7a0c5c0bea7e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_visible', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('listed_in_directory', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('listed_on_participant_lists', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_name', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Anonymised registrations name nobody and cannot go back to a NOT NULL column.
    op.execute("DELETE FROM event_registrations WHERE user_id IS NULL")
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('show_name')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('listed_on_participant_lists')
        batch_op.drop_column('listed_in_directory')
        batch_op.drop_column('email_visible')
