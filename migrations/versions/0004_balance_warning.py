"""balance warning: gotone_settings.balance_warning_below

Reviewed by hand: one nullable NUMERIC(12, 2) column; NULL means the dashboard never warns.
batch_alter_table keeps SQLite happy.

Revision ID: 0004_balance_warning
Revises: 0003_outbox
Create Date: 2026-11-26 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_balance_warning'
down_revision = '0003_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gotone_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_warning_below', sa.Numeric(precision=12, scale=2),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('gotone_settings', schema=None) as batch_op:
        batch_op.drop_column('balance_warning_below')
