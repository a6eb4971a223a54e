"""GoTone Portal: a multi-user web portal in front of a GoTone (Ultimate SMS) gateway."""

from __future__ import annotations

from typing import Any

from dotenv import load_dotenv
from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import LOCALES, ROOT, check_required, load_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the portal: config, extensions, converters, templates, the job system, blueprints,
    errors, CLI. Everything an app needs once is set up here or by the functions called here
    (app/wiring.py): registering a blueprint only adds its routes."""
    load_dotenv(ROOT / ".env", override=False)
    config = load_config()
    config.update(overrides or {})
    check_required(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=config["INSTANCE_PATH"],
    )
    app.config.update(config)

    from . import wiring

    wiring.init_converters(app)  # before any route is added
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        # Flask's documented way to wrap its WSGI callable (mypy sees a method).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore[method-assign]
    configure_extensions(app)
    configure_templates(app)
    wiring.init_template_helpers(app)

    from .blueprints import register_blueprints
    from .cli import register_cli
    from .errors import register_error_handlers
    from .logging import configure_logging
    from .request_limits import init_request_limits
    from .security import init_security
    from .services.keys import load_keyring

    configure_logging(app)
    load_keyring(app)
    init_security(app)
    wiring.init_request_scope(app)  # after init_security: the request id is set first
    init_request_limits(app)
    wiring.init_job_system(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def configure_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table registered before create_all/migrate)
    from .assets import init_assets
    from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
    from .i18n import install_request_translations
    from .services import sessions

    init_assets(app)  # first: its after-request hook then runs last, on the final body
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    install_request_translations(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        from .rendering import is_poll_request

        uid, _, token = user_id.partition(":")
        return sessions.load(uid, token, touch=not is_poll_request())

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(db.engine)


def _sqlite_pragmas(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _select_locale() -> str:
    if not has_request_context():
        return "en"  # CLI and background work
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    best = request.accept_languages.best_match(["en", "zh-Hans", "zh-CN", "zh-SG", "zh"]) or "en"
    return "zh_Hans" if best.startswith("zh") else "en"


def configure_templates(app: Flask) -> None:
    from .forms.workspaces import role_label
    from .permissions import can

    if app.config.get("TESTING") or app.config["PORTAL_ENV"] == "development":
        app.jinja_env.undefined = StrictUndefined

    @app.context_processor
    def portal_context() -> dict[str, Any]:
        from .rendering import row_url
        from .services.workspaces import switcher_entries

        def can_do(permission: str) -> bool:
            membership = g.get("membership")
            return membership is not None and can(membership.role, permission)

        def switcher():
            if not current_user.is_authenticated:
                return []
            return switcher_entries(current_user)

        return {
            "row_url": row_url,
            "html_lang": "zh-Hans" if str(get_locale()) == "zh_Hans" else "en",
            "role_name": role_label,
            "can_do": can_do,
            "switcher": switcher,
            "current_workspace": g.get("workspace"),
            "current_role": g.get("membership").role if g.get("membership") else None,
            "current_workspace_id": session.get("workspace_id"),
        }
