"""auth hardening: users.pending_totp_enc

Reviewed by hand: one nullable TEXT column. It holds the TOTP seed of a set-up in progress,
encrypted with the key ring like users.totp_secret_enc (issue 12 item 18: the seed no longer
waits in the session cookie). NULL means no set-up in progress. batch_alter_table keeps
SQLite happy.

Revision ID: 0007_auth_hardening
Revises: 0006_reauthentication
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_auth_hardening'
down_revision = '0006_reauthentication'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_totp_enc', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pending_totp_enc')
