"""api tokens: a scope (read, or read and write) and an optional expiry

Revision ID: 7a0c5c0bea7e
Revises: 5e55101a0b1e
Create Date: 2026-12-01 09:40:00

Existing tokens keep what they could do: scope "write", no expiry.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a0c5c0bea7e'
down_revision = '5e55101a0b1e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.Enum('read', 'write', name='token_scope', native_enum=False, length=10), server_default='write', nullable=False))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scope')
