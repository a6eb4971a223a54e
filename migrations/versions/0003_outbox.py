"""outbox: send requests, outbox messages, message templates

Reviewed by hand: datetimes are naive UTC (UTCDateTime); UNIQUE(workspace_id, send_key) is the
idempotency claim of a send; UNIQUE(request_id, phone) deduplicates recipients of one request;
outbox_messages.resend_of_id links a confirmed resend to the `unknown` row it replaces.

Revision ID: 0003_outbox
Revises: 0002_jobs
Create Date: 2026-11-26 18:54:41.701470

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_outbox'
down_revision = '0002_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_message_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_message_templates_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_message_templates_workspace_name')
    )
    op.create_table('send_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_email', sa.String(length=254), nullable=False),
    sa.Column('send_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('personalised', sa.Boolean(), nullable=False),
    sa.Column('sender_id', sa.String(length=32), nullable=True),
    sa.Column('dlt_template_id', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=8), nullable=True),
    sa.Column('media_url', sa.String(length=2048), nullable=True),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_send_requests_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_send_requests_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_send_requests_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_send_requests')),
    sa.UniqueConstraint('workspace_id', 'send_key', name='uq_send_requests_workspace_key')
    )
    with op.batch_alter_table('send_requests', schema=None) as batch_op:
        batch_op.create_index('ix_send_requests_state_scheduled', ['state', 'scheduled_for'], unique=False)
        batch_op.create_index('ix_send_requests_workspace_created', ['workspace_id', 'created_at'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('chunk', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('gateway_uid', sa.String(length=64), nullable=True),
    sa.Column('gateway_status', sa.String(length=255), nullable=True),
    sa.Column('gateway_cost', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('resend_of_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['send_requests.id'], name=op.f('fk_outbox_messages_request_id_send_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resend_of_id'], ['outbox_messages.id'], name=op.f('fk_outbox_messages_resend_of_id_outbox_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_outbox_messages_sent_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_outbox_messages_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('request_id', 'phone', name='uq_outbox_messages_request_phone'),
    sa.UniqueConstraint('request_id', 'seq', name='uq_outbox_messages_request_seq')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_request_state', ['request_id', 'state'], unique=False)
        batch_op.create_index('ix_outbox_messages_workspace_created', ['workspace_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_workspace_phone', ['workspace_id', 'phone'], unique=False)



def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_workspace_phone')
        batch_op.drop_index('ix_outbox_messages_workspace_created')
        batch_op.drop_index('ix_outbox_messages_request_state')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('send_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_send_requests_workspace_created')
        batch_op.drop_index('ix_send_requests_state_scheduled')

    op.drop_table('send_requests')
    op.drop_table('message_templates')
