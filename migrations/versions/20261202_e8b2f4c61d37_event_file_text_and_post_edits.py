"""event files' text for the search; discussion posts edited by their authors, and the
members each post has told of a mention

Revision ID: e8b2f4c61d37
Revises: c3d9e1f0a712
Create Date: 2026-12-02 09:00:00

Event materials with a file become ``pending``: the scheduler's ``event_file_extraction``
job reads their text (then the search index has it). A post's ``edited_at`` is set by its
author's edit. ``discussion_post_mentions`` lists who each post has told of a mention, so
an edit tells only those newly mentioned, once; posts from before keep their mentions in
their text, which an edit also counts as told.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8b2f4c61d37'
down_revision = 'c3d9e1f0a712'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_materials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extraction_state', sa.Enum('pending', 'done', 'failed', name='material_extraction_state', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('extracted_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('extraction_error', sa.String(length=500), server_default='', nullable=False))
    op.execute("UPDATE event_materials SET extraction_state = 'pending' "
               "WHERE stored_name IS NOT NULL")

    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('discussion_post_mentions',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['discussion_posts.id'], name=op.f('fk_discussion_post_mentions_post_id_discussion_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_discussion_post_mentions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id', name=op.f('pk_discussion_post_mentions'))
    )
    with op.batch_alter_table('discussion_post_mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_post_mentions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('discussion_post_mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_post_mentions_user_id'))
    op.drop_table('discussion_post_mentions')
    with op.batch_alter_table('discussion_posts', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
    with op.batch_alter_table('event_materials', schema=None) as batch_op:
        batch_op.drop_column('extraction_error')
        batch_op.drop_column('extracted_text')
        batch_op.drop_column('extraction_state')
