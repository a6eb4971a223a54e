"""Schema truth: one Alembic head, upgrade on an empty database, nothing left to autogenerate."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, func, select, text

from app.extensions import db


def test_there_is_exactly_one_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_on_an_empty_database_matches_the_models(app):
    db.session.remove()
    with db.engine.begin() as conn:
        db.metadata.drop_all(conn)
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def _fresh_at(revision: str) -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        db.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision=revision)


def _insert(conn, table: str, **values) -> int:
    # The table as the database has it (at 0004 jobs has no files_token, whose model default
    # a Core insert of the model's table would add).
    rows = Table(table, MetaData(), autoload_with=conn)
    return conn.execute(rows.insert().values(values).returning(rows.c.id)).scalar()


def test_0005_keeps_every_row_and_no_deleted_id_is_handed_out_again(app):
    """Issue 12 item 1: upgrade from 0004 with data, then the highest ids, once deleted (a
    workspace, a job, a user), are not given to the next rows."""
    _fresh_at("0004_balance_warning")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        users = [
            _insert(
                conn,
                "users",
                email=f"u{n}@example.com",
                password_hash="x",
                locale="en",
                created_at=now,
            )
            for n in range(3)
        ]
        spaces = [_insert(conn, "workspaces", name=f"W{n}", created_at=now) for n in range(3)]
        for space in spaces:
            _insert(
                conn,
                "memberships",
                workspace_id=space,
                user_id=users[0],
                role="owner",
                created_at=now,
            )
            conn.execute(
                text(
                    "INSERT INTO gotone_settings (workspace_id, base_url, family, "
                    "timezone, default_country, updated_at) VALUES (:w, 'http://x', "
                    "'v3', 'UTC', 'US', :t)"
                ),
                {"w": space, "t": now},
            )
            _insert(conn, "audit_events", ts=now, workspace_id=space, action="x.y", details={})
        job = _insert(
            conn,
            "jobs",
            workspace_id=spaces[1],
            kind="export",
            state="done",
            group_uid="g",
            group_name="G",
            filename="",
            options={},
            rows=0,
            invalid=0,
            duplicates=0,
            to_process=1,
            created=0,
            existing=0,
            refused=0,
            failed=0,
            cancelled=0,
            created_at=now,
        )
        _insert(
            conn,
            "job_items",
            job_id=job,
            seq=1,
            state="done",
            raw_phone="",
            first_name="",
            last_name="",
            attempts=0,
            uncertain=False,
            not_before=0.0,
        )
        request = _insert(
            conn,
            "send_requests",
            workspace_id=spaces[1],
            created_by_id=users[0],
            created_by_email="u0@example.com",
            send_key="k",
            fingerprint="f",
            type="plain",
            text="Hi",
            personalised=False,
            source={},
            recipients=1,
            segments=1,
            units=1,
            state="done",
            job_id=job,
            created_at=now,
            updated_at=now,
        )
        first = _insert(
            conn,
            "outbox_messages",
            request_id=request,
            workspace_id=spaces[1],
            seq=0,
            chunk=0,
            phone="12025550100",
            first_name="",
            last_name="",
            text="Hi",
            segments=1,
            units=1,
            state="unknown",
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        _insert(
            conn,
            "outbox_messages",
            request_id=request,
            workspace_id=spaces[1],
            seq=1,
            chunk=0,
            phone="12025550101",
            first_name="",
            last_name="",
            text="Hi",
            segments=1,
            units=1,
            state="accepted",
            attempts=1,
            created_at=now,
            updated_at=now,
            resend_of_id=first,
        )
        # The newest workspace is deleted before the upgrade; its audit row stays.
        conn.execute(text("DELETE FROM workspaces WHERE id = :w"), {"w": spaces[2]})
    counts_before = _counts()

    upgrade()

    assert _counts() == counts_before
    with db.engine.connect() as conn:  # the rebuilt tables kept their indexes and constraints
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            sql = dict(
                conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
            )
            for table in AUTOINCREMENT_TABLES:
                assert "AUTOINCREMENT" in sql[table], table
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert "ON DELETE CASCADE" in sql["memberships"]
        resend = conn.execute(text("SELECT resend_of_id FROM outbox_messages WHERE seq = 1"))
        assert resend.scalar() == first
        # The audit log still names the deleted workspace: a new one gets another id.
        new_space = _insert(conn, "workspaces", name="New", created_at=now)
        assert new_space > spaces[2]
        # Delete the highest job and user, insert again: their ids are not reused.
        conn.execute(text("DELETE FROM jobs WHERE id = :j"), {"j": job})
        again = _insert(
            conn,
            "jobs",
            workspace_id=spaces[0],
            kind="import",
            state="ready",
            group_uid="g",
            group_name="G",
            filename="",
            options={},
            rows=0,
            invalid=0,
            duplicates=0,
            to_process=0,
            created=0,
            existing=0,
            refused=0,
            failed=0,
            cancelled=0,
            created_at=now,
        )
        assert again > job
        # The cascade still works: the job's items went with it.
        assert conn.execute(text("SELECT count(*) FROM job_items")).scalar() == 0
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": users[2]})
        assert (
            _insert(
                conn, "users", email="v@example.com", password_hash="x", locale="en", created_at=now
            )
            > users[2]
        )


AUTOINCREMENT_TABLES = (
    "users",
    "user_sessions",
    "workspaces",
    "memberships",
    "invitations",
    "audit_events",
    "jobs",
    "job_items",
    "send_requests",
    "outbox_messages",
    "message_templates",
)


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t: conn.execute(select(func.count()).select_from(db.metadata.tables[t])).scalar()
            for t in (*AUTOINCREMENT_TABLES, "gotone_settings")
        }


def test_every_table_with_a_surrogate_id_is_autoincrement_in_the_models():
    for table in db.metadata.sorted_tables:
        if [c.name for c in table.primary_key.columns] == ["id"]:
            assert table.dialect_options["sqlite"]["autoincrement"], table.name
