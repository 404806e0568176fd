"""community: follows, notifications, email preferences, digest runs; HTML part and headers in the outbox

Revision ID: 544c33bd7565
Revises: c3d9e1f0a2b7
Create Date: 2026-12-01 12:10:58.533464

A digest run is unique per member, frequency and period: it is inserted in the same
transaction as the digest's outbox row, so two schedulers send each digest once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '544c33bd7565'
down_revision = 'c3d9e1f0a2b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('community_digest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Enum('immediately', 'daily', 'weekly', 'never', name='notification_frequency', native_enum=False, length=30), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('notifications', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_messages.id'], name=op.f('fk_community_digest_runs_outbox_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_digest_runs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_digest_runs')),
    sa.UniqueConstraint('user_id', 'frequency', 'period', name=op.f('uq_community_digest_runs_user_id_frequency_period'))
    )
    op.create_table('community_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_key', sa.String(length=64), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_follows')),
    sa.UniqueConstraint('user_id', 'target_type', 'target_key', name=op.f('uq_community_follows_user_id_target_type_target_key'))
    )
    with op.batch_alter_table('community_follows', schema=None) as batch_op:
        batch_op.create_index('ix_community_follows_target', ['target_type', 'target_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_follows_user_id'), ['user_id'], unique=False)

    op.create_table('community_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('new_item', 'item_update', 'comment', 'discussion', 'event', 'review', 'join_request', name='notification_kind', native_enum=False, length=30), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_community_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['working_groups.id'], name=op.f('fk_community_notifications_group_id_working_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_notifications'))
    )
    with op.batch_alter_table('community_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_community_notifications_pending', ['emailed_at', 'created_at'], unique=False)
        batch_op.create_index('ix_community_notifications_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('community_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('new_item', 'item_update', 'comment', 'discussion', 'event', 'review', 'join_request', name='notification_kind', native_enum=False, length=30), nullable=False),
    sa.Column('frequency', sa.Enum('immediately', 'daily', 'weekly', 'never', name='notification_frequency', native_enum=False, length=30), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_community_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_preferences')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_community_preferences_user_id_kind'))
    )
    with op.batch_alter_table('community_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_preferences_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('headers_json', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('headers_json')
        batch_op.drop_column('body_html')

    with op.batch_alter_table('community_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_preferences_user_id'))

    op.drop_table('community_preferences')
    with op.batch_alter_table('community_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_community_notifications_unread')
        batch_op.drop_index('ix_community_notifications_pending')

    op.drop_table('community_notifications')
    with op.batch_alter_table('community_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_follows_user_id'))
        batch_op.drop_index('ix_community_follows_target')

    op.drop_table('community_follows')
    op.drop_table('community_digest_runs')
