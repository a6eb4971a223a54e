"""Settings read from PORTAL_* environment variables; fails fast on missing secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .gotone.url_policy import UrlPolicy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOTONE_URL = "https://app.gotonesms.net/api/v3"
LOCALES = ("en", "zh_Hans")


class ConfigError(RuntimeError):
    """A required setting is missing; the message names the variable, never a value."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _database_url(env: dict[str, str], instance: Path) -> str:
    url = env.get("PORTAL_DATABASE_URL")
    if url:
        # Operators paste the libpq form; SQLAlchemy needs the psycopg 3 driver named.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{instance / 'portal.db'}"


def _allowed_urls(value: str) -> list[str]:
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    try:
        UrlPolicy(entries)  # a mistyped entry fails at start, not at the first form
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return entries


def load_config(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment (PORTAL_* variables)."""
    env = dict(os.environ if environ is None else environ)
    instance = Path(env.get("PORTAL_INSTANCE_PATH") or ROOT / "instance")
    portal_env = env.get("PORTAL_ENV", "production").strip().lower()
    production = portal_env not in ("development", "testing")
    redis_url = env.get("PORTAL_REDIS_URL") or None
    secure_cookies = _bool(env.get("PORTAL_SECURE_COOKIES"), False)
    return {
        "PORTAL_ENV": portal_env,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": env.get("PORTAL_SECRET_KEY") or None,
        "ENCRYPTION_KEYS": env.get("PORTAL_ENCRYPTION_KEYS") or None,
        "SQLALCHEMY_DATABASE_URI": _database_url(env, instance),
        # A server's connections can be dropped while idle in the pool; a SQLite file cannot
        # (pinging it cost a statement per request).
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": not _database_url(env, instance).startswith("sqlite")
        },
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        "PROXY_COUNT": int(env.get("PORTAL_PROXY_COUNT", "0")),
        # Secure cookies are also switched on per request when it arrived over TLS.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Served only over TLS: the __Host- prefix makes browsers refuse a cookie that a
        # sibling subdomain or a plain-http page tries to set over it (ASVS 3.3.1).
        "SESSION_COOKIE_NAME": "__Host-portal_session" if secure_cookies else "portal_session",
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "SESSION_IDLE_SECONDS": int(env.get("PORTAL_SESSION_IDLE_SECONDS", str(30 * 60))),
        "SESSION_ABSOLUTE_SECONDS": int(env.get("PORTAL_SESSION_ABSOLUTE_SECONDS", str(12 * 3600))),
        # The CSRF token lives as long as the (bounded) session: an htmx page left open for an
        # hour must not get a 400 on its next click.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
        "SIGNUP_ENABLED": _bool(env.get("PORTAL_SIGNUP_ENABLED"), True),
        "GOTONE_DEFAULT_URL": env.get("PORTAL_GOTONE_DEFAULT_URL", DEFAULT_GOTONE_URL),
        "GOTONE_TIMEOUT": float(env.get("PORTAL_GOTONE_TIMEOUT", "10")),
        # Circuit breaker per workspace gateway (services/breaker.py): open after this many
        # consecutive unanswered calls (refused, reset, timed out), probe again after the
        # cool-down in seconds.
        "GOTONE_BREAKER_FAILURES": int(env.get("PORTAL_GOTONE_BREAKER_FAILURES", "5")),
        "GOTONE_BREAKER_COOLDOWN": float(env.get("PORTAL_GOTONE_BREAKER_COOLDOWN", "30")),
        # How long a worker keeps a workspace's decrypted token (seconds; 0 decrypts each time).
        "GOTONE_TOKEN_CACHE_SECONDS": float(env.get("PORTAL_GOTONE_TOKEN_CACHE_SECONDS", "60")),
        # The gateway URL policy (app/gotone/url_policy.py, SSRF guard). Comma-separated
        # entries such as https://gw.example.com:8443/api or https://.example.com: a
        # workspace's URL needs the same scheme, the exact host (or a name under a ".domain"
        # entry), the same port and a path under the entry's. Empty: any public https host.
        "GOTONE_ALLOWED_URLS": _allowed_urls(env.get("PORTAL_GOTONE_ALLOWED_URLS", "")),
        # Plain http and private, loopback or link-local gateway addresses: refused in
        # production unless switched on; on for development (the simulator on 127.0.0.1).
        "GOTONE_ALLOW_HTTP": _bool(env.get("PORTAL_GOTONE_ALLOW_HTTP"), not production),
        "GOTONE_ALLOW_PRIVATE": _bool(env.get("PORTAL_GOTONE_ALLOW_PRIVATE"), not production),
        # RFC 9106 "low memory" argon2id profile; tests lower it through overrides only.
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_KIB": 65536,
        "ARGON2_PARALLELISM": 4,
        "LOGIN_ACCOUNT_LIMIT": env.get("PORTAL_LOGIN_ACCOUNT_LIMIT", "10 per 15 minutes"),
        "LOGIN_IP_LIMIT": env.get("PORTAL_LOGIN_IP_LIMIT", "100 per hour"),
        "INVITATION_DAYS": int(env.get("PORTAL_INVITATION_DAYS", "7")),
        # --- issue 12, helper B (auth hardening) -------------------------------------------
        # LOGIN_ACCOUNT_LIMIT counts one account's failures from one source; this ceiling
        # counts them from every source, much higher, so a stranger cannot lock the owner out.
        "LOGIN_ACCOUNT_CEILING": env.get("PORTAL_LOGIN_ACCOUNT_CEILING", "200 per 15 minutes"),
        "SIGNUP_IP_LIMIT": env.get("PORTAL_SIGNUP_IP_LIMIT", "10 per hour"),
        # Per member and workspace: sends (review and send posts), exports, status refreshes.
        "SEND_LIMIT": env.get("PORTAL_SEND_LIMIT", "20 per minute"),
        "EXPORT_LIMIT": env.get("PORTAL_EXPORT_LIMIT", "10 per minute"),
        "REFRESH_LIMIT": env.get("PORTAL_REFRESH_LIMIT", "30 per minute"),
        # Route limits keep working, per process, while Redis is down (no 500 on every post),
        # and a Redis that does not answer costs a login 2 s, not a hung thread.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        # Bodies of requests other than uploads (uploads get IMPORT_MAX_BYTES, see app/jobs.py).
        "FORM_MAX_BYTES": int(env.get("PORTAL_FORM_MAX_BYTES", str(512 * 1024))),
        # --- end of helper B's block ---------------------------------------------------------
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LOG_LEVEL": env.get("PORTAL_LOG_LEVEL", "INFO"),
        "PRODUCTION": production,
        "DEBUG": False,
    }


def check_required(config: dict[str, Any]) -> None:
    """Refuse to start outside development and tests when the secret key is missing."""
    relaxed = config.get("TESTING") or config["PORTAL_ENV"] in ("development", "testing")
    if not config.get("SECRET_KEY"):
        if not relaxed:
            raise ConfigError("PORTAL_SECRET_KEY is required (see `flask secrets generate-key`)")
        # Development and tests get a per-process key: sessions do not survive a restart.
        config["SECRET_KEY"] = os.urandom(32).hex()
    if config.get("DEBUG") and not relaxed:
        raise ConfigError("DEBUG must be off in production")
