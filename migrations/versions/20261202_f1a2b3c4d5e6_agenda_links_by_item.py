"""events: an index on the agenda's links by library item

Revision ID: f1a2b3c4d5e6
Revises: d4e5f6a7b8c9
Create Date: 2026-12-02 00:40:00.000000

Each library item page asks which agenda items link it. The table's key starts with the
agenda item, so without this index SQLite built a temporary one on every page view and
PostgreSQL read the whole table.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_event_agenda_library_items_library_item_id',
                    'event_agenda_library_items', ['library_item_id'], unique=False)


def downgrade():
    op.drop_index('ix_event_agenda_library_items_library_item_id',
                  table_name='event_agenda_library_items')
