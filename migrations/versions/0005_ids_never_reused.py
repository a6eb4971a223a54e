"""ids never reused: SQLite AUTOINCREMENT on every table whose ids are named elsewhere; jobs.files_token

Reviewed by hand. Without AUTOINCREMENT SQLite gives a new row the highest id + 1, so a
deleted workspace's id went to the next new one, which then saw the old one's audit rows and
job files (issue 12 item 1). SQLite cannot add AUTOINCREMENT to a table: each table is
rebuilt (batch recreate copies every row, keeps the ids, indexes and constraints). On
PostgreSQL the ids come from sequences, which never go back: nothing to rebuild there.

The rebuild runs with foreign keys off: with them on, dropping the old copy of a parent table
(workspaces, users, ...) would first delete its rows and cascade that to every child table.
`PRAGMA foreign_keys` is ignored inside a transaction, so what earlier revisions of the same
run wrote is committed first (the database is then at 0004, a consistent state), and the
check runs before the end: a rebuild that broke a reference fails the migration.

The workspaces' counter starts past the highest workspace id the audit log still names, so a
workspace deleted before this revision does not lend its id (and its audit rows) to the next.

Revision ID: 0005_ids_never_reused
Revises: 0004_balance_warning
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_ids_never_reused'
down_revision = '0004_balance_warning'
branch_labels = None
depends_on = None

# Parents before children is not needed with foreign keys off; listed by area.
TABLES = ('users', 'user_sessions', 'workspaces', 'memberships', 'invitations',
          'audit_events', 'jobs', 'job_items', 'send_requests', 'outbox_messages',
          'message_templates')


def _sqlite_foreign_keys(bind, on, commit=True):
    dbapi = bind.connection.dbapi_connection
    if dbapi.in_transaction:
        dbapi.commit() if commit else dbapi.rollback()
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar() != int(on):
        raise RuntimeError("PRAGMA foreign_keys could not be changed")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        with op.batch_alter_table('jobs', schema=None) as batch_op:
            batch_op.add_column(sa.Column('files_token', sa.String(length=32), nullable=True))
        return
    _sqlite_foreign_keys(bind, False)
    try:
        with op.batch_alter_table('jobs', schema=None) as batch_op:
            batch_op.add_column(sa.Column('files_token', sa.String(length=32), nullable=True))
        for table in TABLES:
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': True}):
                pass
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        # Rebuilt tables count on from their highest id; the workspaces past the audit log's.
        highest = bind.exec_driver_sql(
            "SELECT max(coalesce((SELECT max(id) FROM workspaces), 0),"
            " coalesce((SELECT max(workspace_id) FROM audit_events), 0))"
        ).scalar()
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'workspaces'")
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('workspaces', ?)", (highest,)
        )
    except BaseException:
        _sqlite_foreign_keys(bind, True, commit=False)  # nothing of this revision is kept
        raise
    _sqlite_foreign_keys(bind, True)


def downgrade():
    # The ids stay AUTOINCREMENT (harmless, and a rebuild back would be the risk); the
    # column goes.
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('files_token')
