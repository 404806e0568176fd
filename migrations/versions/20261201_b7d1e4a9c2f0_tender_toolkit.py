"""tender toolkit: ambition scale and scheme, baskets, labels register, reuse register

Revision ID: b7d1e4a9c2f0
Revises: c1e7a9d40b52
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
down_revision = 'c1e7a9d40b52'
branch_labels = None
depends_on = None

NEW_FACETS = ('ambition', 'verification')


def upgrade():
    with op.batch_alter_table('library_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ambition_scheme', sa.Enum('common', 'eu_gpp', 'se_nap', 'nl_mvi', name='item_ambition_scheme', native_enum=False, length=40), nullable=True))
    op.execute("UPDATE library_items SET ambition_scheme = 'eu_gpp' WHERE ambition IN ('core', 'comprehensive')")
    op.execute("UPDATE library_items SET ambition = '1' WHERE ambition = 'core'")
    op.execute("UPDATE library_items SET ambition = '2' WHERE ambition = 'comprehensive'")
    # Saved versions (JSON with the default separators) say the same.
    for old, new in (('core', '1'), ('comprehensive', '2')):
        op.execute(
            "UPDATE library_item_versions SET data_json = REPLACE(data_json, "
            f"'\"ambition\": \"{old}\"', '\"ambition\": \"{new}\"') "
            f"WHERE data_json LIKE '%\"ambition\": \"{old}\"%'"
        )

    op.create_table('labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.Enum('social', 'environmental', 'social_and_environmental', name='label_scope', native_enum=False, length=40), nullable=True),
    sa.Column('product_groups_text', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('seed_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labels')),
    sa.UniqueConstraint('name', name=op.f('uq_labels_name')),
    sa.UniqueConstraint('seed_key', name=op.f('uq_labels_seed_key'))
    )
    op.create_table('label_generations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('current', 'superseded', 'withdrawn', name='generation_status', native_enum=False, length=40), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['label_id'], ['labels.id'], name=op.f('fk_label_generations_label_id_labels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_generations')),
    sa.UniqueConstraint('label_id', 'name', name=op.f('uq_label_generations_label_id_name'))
    )
    with op.batch_alter_table('label_generations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_generations_label_id'), ['label_id'], unique=False)

    op.create_table('toolkit_baskets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('share', sa.Enum('private', 'organisation', 'group', name='basket_share', native_enum=False, length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('shared_editable', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['working_groups.id'], name=op.f('fk_toolkit_baskets_group_id_working_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_toolkit_baskets_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_toolkit_baskets_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_toolkit_baskets')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_toolkit_baskets_owner_id_name'))
    )
    with op.batch_alter_table('toolkit_baskets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_toolkit_baskets_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_toolkit_baskets_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_toolkit_baskets_owner_id'), ['owner_id'], unique=False)

    op.create_table('label_citations',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['generation_id'], ['label_generations.id'], name=op.f('fk_label_citations_generation_id_label_generations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['library_items.id'], name=op.f('fk_label_citations_item_id_library_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'generation_id', name=op.f('pk_label_citations'))
    )
    with op.batch_alter_table('label_citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_citations_generation_id'), ['generation_id'], unique=False)

    op.create_table('label_stale_flags',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['generation_id'], ['label_generations.id'], name=op.f('fk_label_stale_flags_generation_id_label_generations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['library_items.id'], name=op.f('fk_label_stale_flags_item_id_library_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'generation_id', name=op.f('pk_label_stale_flags'))
    )
    op.create_table('toolkit_basket_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('basket_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['basket_id'], ['toolkit_baskets.id'], name=op.f('fk_toolkit_basket_entries_basket_id_toolkit_baskets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['library_items.id'], name=op.f('fk_toolkit_basket_entries_item_id_library_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['library_items.id'], name=op.f('fk_toolkit_basket_entries_variant_id_library_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_toolkit_basket_entries')),
    sa.UniqueConstraint('basket_id', 'item_id', name=op.f('uq_toolkit_basket_entries_basket_id_item_id'))
    )
    with op.batch_alter_table('toolkit_basket_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_toolkit_basket_entries_basket_id'), ['basket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_toolkit_basket_entries_item_id'), ['item_id'], unique=False)

    op.create_table('toolkit_clause_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('contracting_authority', sa.String(length=200), nullable=False),
    sa.Column('tender_title', sa.String(length=300), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.Column('lots', sa.String(length=200), nullable=False),
    sa.Column('product_group', sa.String(length=40), nullable=False),
    sa.Column('bids_received', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('awarded', 'no_bids', 'cancelled', 'ongoing', name='use_outcome', native_enum=False, length=20), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=300), nullable=False),
    sa.Column('seed_key', sa.String(length=120), nullable=True),
    sa.CheckConstraint('bids_received IS NULL OR bids_received >= 0', name=op.f('ck_toolkit_clause_uses_bids_not_negative')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_toolkit_clause_uses_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['library_items.id'], name=op.f('fk_toolkit_clause_uses_item_id_library_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_toolkit_clause_uses_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_toolkit_clause_uses')),
    sa.UniqueConstraint('seed_key', name=op.f('uq_toolkit_clause_uses_seed_key'))
    )
    with op.batch_alter_table('toolkit_clause_uses', schema=None) as batch_op:
        batch_op.create_index('ix_toolkit_clause_uses_item_hidden', ['item_id', 'hidden_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_toolkit_clause_uses_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_toolkit_clause_uses_recorded_by_id'), ['recorded_by_id'], unique=False)


    if op.get_bind().dialect.name == 'postgresql':
        for facet in NEW_FACETS:
            op.execute(f"ALTER TABLE search.search_documents ADD COLUMN IF NOT EXISTS facet_{facet} text[] NOT NULL DEFAULT '{{}}'")
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_search_documents_facet_{facet} ON search.search_documents USING gin (facet_{facet})")


def downgrade():
    with op.batch_alter_table('toolkit_clause_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_toolkit_clause_uses_recorded_by_id'))
        batch_op.drop_index(batch_op.f('ix_toolkit_clause_uses_item_id'))
        batch_op.drop_index('ix_toolkit_clause_uses_item_hidden')

    op.drop_table('toolkit_clause_uses')
    with op.batch_alter_table('toolkit_basket_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_toolkit_basket_entries_item_id'))
        batch_op.drop_index(batch_op.f('ix_toolkit_basket_entries_basket_id'))

    op.drop_table('toolkit_basket_entries')
    op.drop_table('label_stale_flags')
    with op.batch_alter_table('label_citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_citations_generation_id'))

    op.drop_table('label_citations')
    with op.batch_alter_table('toolkit_baskets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_toolkit_baskets_owner_id'))
        batch_op.drop_index(batch_op.f('ix_toolkit_baskets_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_toolkit_baskets_group_id'))

    op.drop_table('toolkit_baskets')
    with op.batch_alter_table('label_generations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_generations_label_id'))

    op.drop_table('label_generations')
    op.drop_table('labels')
    if op.get_bind().dialect.name == 'postgresql':
        for facet in NEW_FACETS:
            op.execute(f"DROP INDEX IF EXISTS search.ix_search_documents_facet_{facet}")
            op.execute(f"ALTER TABLE search.search_documents DROP COLUMN IF EXISTS facet_{facet}")
    op.execute("UPDATE library_items SET ambition = 'core' WHERE ambition = '1'")
    op.execute("UPDATE library_items SET ambition = 'comprehensive' WHERE ambition IN ('2', '3')")
    with op.batch_alter_table('library_items', schema=None) as batch_op:
        batch_op.drop_column('ambition_scheme')
