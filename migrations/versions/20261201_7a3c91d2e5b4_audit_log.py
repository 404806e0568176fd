"""audit log: append-only audit_entries, guarded on PostgreSQL by a trigger

Revision ID: 7a3c91d2e5b4
Revises: d88aa0601524
Create Date: 2026-12-01 09:30:00.000000

The table has no foreign keys: an entry must outlive the account and the object it names.
On PostgreSQL a trigger refuses every UPDATE and DELETE of a row, except the retention purge
(DELETE with the transaction-local setting buyergroup.audit_purge = 'on') and the erasure of
a member (UPDATE that only blanks actor_name, actor_email and target_label, with
buyergroup.audit_erasure = 'on'). This is a frozen copy of
buyergroup.audit.models.POSTGRES_GUARD. Nothing extra on SQLite (the ORM guard applies).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c91d2e5b4'
down_revision = 'd88aa0601524'
branch_labels = None
depends_on = None


POSTGRES_GUARD = [
    '''CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('buyergroup.audit_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit entries are append-only (DELETE refused)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- UPDATE: only the erasure of a member may blank its personal copies, and nothing else.
    IF current_setting('buyergroup.audit_erasure', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.created_at = OLD.created_at
       AND NEW.action = OLD.action
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.target_type = OLD.target_type
       AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
       AND NEW.remote_addr IS NOT DISTINCT FROM OLD.remote_addr
       AND NEW.details::text = OLD.details::text
       AND (NEW.actor_name = OLD.actor_name OR NEW.actor_name = '')
       AND (NEW.actor_email = OLD.actor_email OR NEW.actor_email = '')
       AND (NEW.target_label = OLD.target_label OR NEW.target_label = '')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (UPDATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql''',
    '''CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()''',
]


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Enum('role_changed', 'group_role_changed', 'account_activated', 'account_deactivated', 'invitation_sent', 'invitation_revoked', 'account_erased', 'data_exported', 'item_published', 'item_returned', 'item_hidden', 'comment_hidden', 'participants_downloaded', 'token_created', 'token_revoked', 'sign_in_failures', 'audit_downloaded', name='audit_action', native_enum=False, length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('actor_email', sa.String(length=254), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_label', sa.String(length=200), nullable=False),
    sa.Column('remote_addr', sa.String(length=45), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_created_at', ['action', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_created_at', ['created_at'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRES_GUARD:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries')
        op.execute('DROP FUNCTION IF EXISTS audit_entries_append_only()')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_created_at')
        batch_op.drop_index('ix_audit_entries_actor_id')
        batch_op.drop_index('ix_audit_entries_action_created_at')

    op.drop_table('audit_entries')
