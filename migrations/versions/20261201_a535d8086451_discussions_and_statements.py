"""discussions of working groups (threads, posts, reports, linked items) and joint
statements (versions, signing authorities, signatures, roadmap actions)

Revision ID: a535d8086451
Revises: 544c33bd7565
Create Date: 2026-12-01 12:11:46

One accepted answer per thread is a partial unique index (SQLite and PostgreSQL both have
them); one signature per organisation and statement a unique key.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a535d8086451'
down_revision = '544c33bd7565'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement_signing_authorities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_statement_signing_authorities_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_statement_signing_authorities_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_statement_signing_authorities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_signing_authorities')),
    sa.UniqueConstraint('organisation_id', 'user_id', name=op.f('uq_statement_signing_authorities_organisation_id_user_id'))
    )
    with op.batch_alter_table('statement_signing_authorities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_signing_authorities_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_signing_authorities_user_id'), ['user_id'], unique=False)

    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=True),
    sa.Column('state', sa.Enum('draft', 'open', 'closed', name='statement_state', native_enum=False, length=30), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_statements_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['working_groups.id'], name=op.f('fk_statements_group_id_working_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('key', name=op.f('uq_statements_key'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_group_id'), ['group_id'], unique=False)

    op.create_table('discussion_threads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('product_group_codes', sa.String(length=300), nullable=False),
    sa.Column('theme_codes', sa.String(length=300), nullable=False),
    sa.Column('is_knowledge_gap', sa.Boolean(), nullable=False),
    sa.Column('addressed_by_id', sa.Integer(), nullable=True),
    sa.Column('addressed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('last_posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['addressed_by_id'], ['library_items.id'], name=op.f('fk_discussion_threads_addressed_by_id_library_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_discussion_threads_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['working_groups.id'], name=op.f('fk_discussion_threads_group_id_working_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['locked_by_id'], ['users.id'], name=op.f('fk_discussion_threads_locked_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_threads'))
    )
    with op.batch_alter_table('discussion_threads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_threads_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discussion_threads_last_posted_at'), ['last_posted_at'], unique=False)

    op.create_table('statement_roadmap_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', name='roadmap_action_status', native_enum=False, length=30), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_statement_roadmap_actions_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_roadmap_actions_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_roadmap_actions'))
    )
    with op.batch_alter_table('statement_roadmap_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_roadmap_actions_statement_id'), ['statement_id'], unique=False)

    op.create_table('statement_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signatory', sa.String(length=200), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_statement_signatures_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_statement_signatures_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_signatures_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_signatures')),
    sa.UniqueConstraint('statement_id', 'organisation_id', name=op.f('uq_statement_signatures_statement_id_organisation_id'))
    )
    with op.batch_alter_table('statement_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_signatures_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_signatures_statement_id'), ['statement_id'], unique=False)

    op.create_table('statement_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_statement_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_versions_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_versions')),
    sa.UniqueConstraint('statement_id', 'number', name=op.f('uq_statement_versions_statement_id_number'))
    )
    with op.batch_alter_table('statement_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_versions_statement_id'), ['statement_id'], unique=False)

    op.create_table('discussion_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_accepted', sa.Boolean(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_discussion_posts_accepted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_discussion_posts_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_discussion_posts_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['discussion_threads.id'], name=op.f('fk_discussion_posts_thread_id_discussion_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_posts'))
    )
    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_posts_thread_id'), ['thread_id'], unique=False)
        batch_op.create_index('uq_discussion_posts_accepted', ['thread_id'], unique=True, sqlite_where=sa.text('is_accepted'), postgresql_where=sa.text('is_accepted'))

    op.create_table('discussion_thread_items',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['library_items.id'], name=op.f('fk_discussion_thread_items_item_id_library_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['discussion_threads.id'], name=op.f('fk_discussion_thread_items_thread_id_discussion_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'item_id', name=op.f('pk_discussion_thread_items'))
    )
    with op.batch_alter_table('discussion_thread_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_thread_items_item_id'), ['item_id'], unique=False)

    op.create_table('discussion_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['discussion_posts.id'], name=op.f('fk_discussion_reports_post_id_discussion_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_discussion_reports_reporter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_reports')),
    sa.UniqueConstraint('post_id', 'reporter_id', name=op.f('uq_discussion_reports_post_id_reporter_id'))
    )
    with op.batch_alter_table('discussion_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_reports_post_id'), ['post_id'], unique=False)



def downgrade():
    with op.batch_alter_table('discussion_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_reports_post_id'))

    op.drop_table('discussion_reports')
    with op.batch_alter_table('discussion_thread_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_thread_items_item_id'))

    op.drop_table('discussion_thread_items')
    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.drop_index('uq_discussion_posts_accepted', sqlite_where=sa.text('is_accepted'), postgresql_where=sa.text('is_accepted'))
        batch_op.drop_index(batch_op.f('ix_discussion_posts_thread_id'))

    op.drop_table('discussion_posts')
    with op.batch_alter_table('statement_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_versions_statement_id'))

    op.drop_table('statement_versions')
    with op.batch_alter_table('statement_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_signatures_statement_id'))
        batch_op.drop_index(batch_op.f('ix_statement_signatures_organisation_id'))

    op.drop_table('statement_signatures')
    with op.batch_alter_table('statement_roadmap_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_roadmap_actions_statement_id'))

    op.drop_table('statement_roadmap_actions')
    with op.batch_alter_table('discussion_threads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_threads_last_posted_at'))
        batch_op.drop_index(batch_op.f('ix_discussion_threads_group_id'))

    op.drop_table('discussion_threads')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_group_id'))

    op.drop_table('statements')
    with op.batch_alter_table('statement_signing_authorities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_signing_authorities_user_id'))
        batch_op.drop_index(batch_op.f('ix_statement_signing_authorities_organisation_id'))

    op.drop_table('statement_signing_authorities')
