"""Operations commands: `flask secrets ...`, `flask users create`, `flask workspaces create`,
`flask health`, `flask jobs worker|sweep`."""

from __future__ import annotations

import os
import sys
from collections import Counter

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .crypto import CryptoError, generate_key, key_id_of
from .exceptions import EmailTakenError
from .extensions import db
from .jobs import run_worker, sweep_once
from .models import GoToneSettings, User

secrets_cli = AppGroup("secrets", help="Encryption keys for stored GoTone tokens.")
users_cli = AppGroup("users", help="Portal accounts.")
workspaces_cli = AppGroup("workspaces", help="Workspaces.")
jobs_cli = AppGroup("jobs", help="Background jobs: the consumer and its sweeper.")


def _ring():
    from .services import keys

    try:
        return keys.keyring()
    except Exception as exc:  # ServiceUnavailableError carries the safe reason
        raise click.ClickException(str(exc)) from None


def _stored_secrets():
    """(kind, row key, scope, stored value) for every encrypted column."""
    from .services.keys import user_scope

    for row in db.session.scalars(
        db.select(GoToneSettings).where(GoToneSettings.token_enc.is_not(None))
    ):
        yield GoToneSettings, row.workspace_id, row.workspace_id, row.token_enc
    for user in db.session.scalars(db.select(User).where(User.totp_secret_enc.is_not(None))):
        yield User, user.id, user_scope(user.id), user.totp_secret_enc


@secrets_cli.command("generate-key")
def generate_key_command():
    """Print a new key entry for PORTAL_ENCRYPTION_KEYS (put it first to make it primary)."""
    click.echo(generate_key())


@secrets_cli.command("check")
def check_command():
    """Decrypt every stored secret; print counts per key id; exit 1 if any fails."""
    ring = _ring()
    per_kid: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for _model, _key, scope, stored in list(_stored_secrets()):
        try:
            ring.decrypt(stored, scope)
            per_kid[key_id_of(stored)] += 1
        except CryptoError as exc:
            failures[type(exc).__name__] += 1
    for kid, count in sorted(per_kid.items()):
        primary = " (primary)" if kid == ring.primary_kid else ""
        click.echo(f"key {kid}{primary}: {count}")
    for reason, count in sorted(failures.items()):
        click.echo(f"failed ({reason}): {count}")
    if failures:
        sys.exit(1)
    click.echo("all stored secrets decrypt")


@secrets_cli.command("rotate")
@click.option("--batch", default=200, show_default=True, help="rows per transaction")
def rotate_command(batch: int):
    """Re-encrypt every secret not under the primary key. Resumable and idempotent."""
    from .services.dml import execute_dml

    ring = _ring()
    rotated = current = failed = pending = 0
    for model, key, scope, stored in list(_stored_secrets()):
        if not ring.needs_rotation(stored):
            current += 1
            continue
        try:
            fresh = ring.encrypt(ring.decrypt(stored, scope), scope)
        except CryptoError:
            failed += 1
            continue
        column = model.token_enc if model is GoToneSettings else model.totp_secret_enc
        pk = model.workspace_id if model is GoToneSettings else model.id
        # Compare-and-swap: a token changed meanwhile by a user is left alone.
        result = execute_dml(
            db.update(model).where(pk == key, column == stored).values({column.key: fresh})
        )
        rotated += result.rowcount or 0
        pending += 1
        if pending >= batch:
            db.session.commit()
            pending = 0
    db.session.commit()
    click.echo(f"rotated {rotated}, already current {current}, failed {failed}")
    if failed:
        sys.exit(1)


def _password_from_env_or_prompt() -> str:
    password = os.environ.get("PORTAL_PASSWORD")
    if password:
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
def create_user_command(email: str):
    """Create an account; the password comes from the prompt or PORTAL_PASSWORD."""
    from .services import accounts, passwords

    password = _password_from_env_or_prompt()
    if problem := passwords.policy_problem(password, email):
        raise click.ClickException(problem)
    try:
        user = accounts.create_user(email, password)
    except EmailTakenError:
        raise click.ClickException(f"{email} already has an account") from None
    click.echo(f"created user {user.id} {user.email}")


def _token_from_env_or_stdin() -> str | None:
    token = os.environ.get("PORTAL_GOTONE_TOKEN")
    if token:
        return token.strip()
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.read().strip() or None
    return (
        click.prompt(
            "GoTone API token (empty: none)", default="", hide_input=True, show_default=False
        ).strip()
        or None
    )


@workspaces_cli.command("create")
@click.argument("name")
@click.option("--owner", required=True, help="e-mail of an existing user")
@click.option("--gotone-url", default=None, help="gateway base URL (default from config)")
def create_workspace_command(name: str, owner: str, gotone_url: str | None):
    """Create a workspace; the token is read from stdin or PORTAL_GOTONE_TOKEN, never argv."""
    from .services import accounts, gotone, workspaces

    user = accounts.find_user(owner)
    if user is None:
        raise click.ClickException(f"no user {owner}")
    token = _token_from_env_or_stdin()
    if token:
        _ring()  # fail before creating anything when the token cannot be stored
    workspace = workspaces.create(name, user, gotone_url=gotone_url)
    if token:
        gotone.set_token(workspace, user, token)
    suffix = f", token ending {token[-4:]}" if token else ", no token"
    click.echo(f"created workspace {workspace.id} {workspace.name!r}{suffix}")


@click.command("health")
@click.option(
    "--workspace",
    "workspace_ids",
    type=int,
    multiple=True,
    help="check only this workspace's gateway (repeatable)",
)
@click.option(
    "--gateways/--no-gateways",
    default=True,
    show_default=True,
    help="call each workspace's gateway with its token",
)
def health_command(workspace_ids: tuple[int, ...], gateways: bool):
    """Database, Redis, keys against the stored tokens, each workspace's gateway; exit 1 if
    any fails. Prints counts and the portal's own words, never a token."""
    from .models import Workspace
    from .services import health, keys

    failed = []
    database = health.database()
    click.echo(f"database: {'ok' if database else 'not answering'}")
    if not database:
        sys.exit(1)
    redis = health.redis_reachable()
    click.echo(f"redis: {'not configured' if redis is None else 'ok' if redis else 'unreachable'}")
    failed += ["redis"] * (redis is False)
    problem = keys.keyring_problem()
    click.echo(f"encryption keys: {'ok' if problem is None else problem}")
    tokens = health.stored_tokens()
    click.echo(
        f"stored tokens: {tokens.checked}, decrypt: {tokens.decrypted}, fail: {tokens.failed}"
    )
    failed += ["keys"] * (problem is not None or not tokens.ok)
    if tokens.failed:
        click.echo("  `flask secrets check` counts them per key id")
    if gateways:
        query = (
            db.select(Workspace)
            .join(GoToneSettings)
            .where(GoToneSettings.token_enc.is_not(None))
            .order_by(Workspace.id)
        )
        if workspace_ids:
            query = query.where(Workspace.id.in_(workspace_ids))
        for workspace in db.session.scalars(query).all():
            check = health.gateway(workspace)
            state = "ok" if check.ok else "not checked" if check.ok is None else "failed"
            click.echo(f"gateway of workspace {workspace.id}: {state}: {check.message}")
            failed += ["gateway"] * (check.ok is not True)
    if failed:
        sys.exit(1)
    click.echo("all checks passed")


@jobs_cli.command("worker")
@click.option("--workers", "-w", default=4, show_default=True, help="Worker threads.")
def worker_command(workers: int):
    """Run a job consumer (Huey) with a sweeper; stop with Ctrl-C (SIGINT)."""
    run_worker(_real_app(), workers)


@jobs_cli.command("sweep")
def sweep_command():
    """Re-queue abandoned items and wake stalled jobs once, then exit."""
    click.echo(f"woken jobs: {sweep_once(_real_app())}")


def _real_app() -> Flask:
    """The app behind current_app, for threads that outlive this context."""
    # current_app is typed as Flask but is a LocalProxy at run time.
    return current_app._get_current_object()  # type: ignore[attr-defined]


def register_cli(app: Flask) -> None:
    app.cli.add_command(secrets_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(workspaces_cli)
    app.cli.add_command(health_command)
    app.cli.add_command(jobs_cli)
