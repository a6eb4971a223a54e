"""re-authentication: user_sessions.reauthenticated_at, user_sessions.reauth_failures

Reviewed by hand: two columns on the server-side session row. reauthenticated_at (nullable:
never re-authenticated) opens the short window in which changing the gateway URL or family,
replacing the token or deleting a workspace does not ask for the password again;
reauth_failures counts the wrong passwords typed in that session (the session ends at the
limit). batch_alter_table keeps SQLite happy.

Revision ID: 0006_reauthentication
Revises: 0005_ids_never_reused
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_reauthentication'
down_revision = '0005_ids_never_reused'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reauthenticated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reauth_failures', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('reauth_failures')
        batch_op.drop_column('reauthenticated_at')
