"""Configuration read from environment variables, with safe development defaults.

Every setting can be overridden by an environment variable of the same name. Production
(``BUYERGROUP_ENV=production``) refuses to start with the development secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

import argon2

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


class ConfigError(RuntimeError):
    """The configuration cannot be used (for example a default secret key in production)."""


def from_environment(env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
    environment = env.get("BUYERGROUP_ENV", "development")
    base_url = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    secure_cookies = base_url.startswith("https://")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'buyergroup.sqlite'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql://" + database_url[len("postgres://") :]
    return {
        "ENV_NAME": environment,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "BASE_URL": base_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Database connections per process (see ``size_database_pool``).
        "DATABASE_POOL_SIZE": _int(env.get("DATABASE_POOL_SIZE"), 10),
        "DATABASE_MAX_OVERFLOW": _int(env.get("DATABASE_MAX_OVERFLOW"), 20),
        "DATABASE_POOL_TIMEOUT": _int(env.get("DATABASE_POOL_TIMEOUT"), 30),
        # SQLite only: milliseconds a connection waits for another's write to end before
        # "database is locked" (every connection is also put in WAL mode: readers never
        # block the writer). See ``buyergroup.database.configure_sqlite``.
        "SQLITE_BUSY_TIMEOUT_MS": _int(env.get("SQLITE_BUSY_TIMEOUT_MS"), 15000),
        # Mail: with no MAIL_SERVER, messages are written as .eml files under MAIL_FOLDER.
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env.get("MAIL_PORT"), 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_DEFAULT_SENDER": env.get(
            "MAIL_DEFAULT_SENDER", "Buyergroup <no-reply@buyergroup.example.org>"
        ),
        "MAIL_FOLDER": env.get("MAIL_FOLDER") or str(instance / "mail"),
        # Seconds a sender's claim on an outbox message lasts; a killed sender's message
        # is taken over by another sender after this (it must outlast one SMTP delivery).
        "MAIL_CLAIM_SECONDS": _int(env.get("MAIL_CLAIM_SECONDS"), 300),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        "INDEX_FOLDER": env.get("INDEX_FOLDER") or str(instance / "index"),
        "MAX_UPLOAD_MB": _int(env.get("MAX_UPLOAD_MB"), 20),
        # Library attachments: files per form, and the limits on reading their text (done in
        # a subprocess after the response, so a hostile PDF cannot hang a web worker).
        "LIBRARY_MAX_FILES": _int(env.get("LIBRARY_MAX_FILES"), 5),
        "EXTRACTION_TIMEOUT_SECONDS": _int(env.get("EXTRACTION_TIMEOUT_SECONDS"), 20),
        "EXTRACTION_MAX_TEXT_BYTES": _int(env.get("EXTRACTION_MAX_TEXT_BYTES"), 2 * 1024 * 1024),
        "EXTRACTION_MEMORY_MB": _int(env.get("EXTRACTION_MEMORY_MB"), 1024),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        # Forms and rate limits
        "WTF_CSRF_ENABLED": _bool(env.get("WTF_CSRF_ENABLED"), True),
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # Where the rate-limit counters live. "memory://" (the default) counts per process:
        # right for one process, wrong for several workers or servers, which each count on
        # their own (five wrong passwords per worker instead of five in all). Point every
        # instance at one Redis, e.g. "redis://127.0.0.1:6379/0", and they count together.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Prefix of the keys in that storage, for several sites sharing one Redis.
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", ""),
        # Redis unreachable: count in each process meanwhile (sign-ins keep working and keep
        # a limit) instead of answering 500; Redis is tried again after a while.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": _bool(
            env.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": env.get("LOGIN_RATE_LIMIT_PER_ACCOUNT", "5 per 5 minutes"),
        "LOGIN_RATE_LIMIT_PER_ADDRESS": env.get("LOGIN_RATE_LIMIT_PER_ADDRESS", "20 per 5 minutes"),
        # Password hashing (Argon2id): the library's recommended cost unless told otherwise.
        # Only the test suite lowers it, to keep thousands of sign-ins fast.
        "ARGON2_TIME_COST": _int(env.get("ARGON2_TIME_COST"), argon2.DEFAULT_TIME_COST),
        "ARGON2_MEMORY_COST": _int(env.get("ARGON2_MEMORY_COST"), argon2.DEFAULT_MEMORY_COST),
        "ARGON2_PARALLELISM": _int(env.get("ARGON2_PARALLELISM"), argon2.DEFAULT_PARALLELISM),
        # Tokens
        "PASSWORD_RESET_HOURS": _int(env.get("PASSWORD_RESET_HOURS"), 2),
        "INVITATION_DAYS": _int(env.get("INVITATION_DAYS"), 14),
        # Internationalisation
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Brussels"),
        # Search: "whoosh" (embedded, default) or "postgresql" (full-text in the database).
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "whoosh"),
        "SEARCH_APPLY_ON_COMMIT": _bool(env.get("SEARCH_APPLY_ON_COMMIT"), True),
        "SEARCH_REINDEX_PROCS": _int(env.get("SEARCH_REINDEX_PROCS"), 1),
        # Recent search results kept per process and index generation (0: none).
        "SEARCH_RESULT_CACHE_SIZE": _int(env.get("SEARCH_RESULT_CACHE_SIZE"), 256),
        # Search: past this many matching documents, counts are estimated from a sample of
        # about SEARCH_SAMPLE_SIZE (and shown as "About N results"); 0: always exact.
        "SEARCH_EXACT_COUNT_LIMIT": _int(env.get("SEARCH_EXACT_COUNT_LIMIT"), 5_000),
        "SEARCH_SAMPLE_SIZE": _int(env.get("SEARCH_SAMPLE_SIZE"), 3_000),
        # Visitors' whole pages kept per process and content generation (core/page_cache.py):
        # at most this many seconds (what only time changes, "upcoming") and pages; 0: none.
        "PAGE_CACHE_SECONDS": _int(env.get("PAGE_CACHE_SECONDS"), 60),
        "PAGE_CACHE_SIZE": _int(env.get("PAGE_CACHE_SIZE"), 256),
        # Regions of members' pages that are the same for one audience (the library's
        # results and filters, core/kept_regions.py), for as long: at most this many.
        "KEPT_REGIONS_SIZE": _int(env.get("KEPT_REGIONS_SIZE"), 512),
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust
        # (rate limits key on the client address, links use the forwarded scheme and host).
        "PROXY_COUNT": _int(env.get("PROXY_COUNT"), 0),
        "BUYERGROUP_SEND_MAIL_ON_COMMIT": _bool(env.get("SEND_MAIL_ON_COMMIT"), True),
        # Seconds between a waiting scheduler's tries to take the scheduler lock over (and
        # between the working one's checks that it still holds it); fractions allowed.
        "SCHEDULER_LOCK_RETRY_SECONDS": _float(env.get("SCHEDULER_LOCK_RETRY_SECONDS"), 10),
    }


def size_database_pool(config: dict) -> None:
    """Size the connection pool in ``SQLALCHEMY_ENGINE_OPTIONS`` (once the URL is final).

    A request holds one connection from its first query to its end (searching included:
    the search reads on the request's own connection). Applying index updates after a
    commit holds up to three more for a moment (with the PostgreSQL backend: the advisory
    writer lock, the queue drain, the write), one writer at a time. So a process needs
    ``threads serving requests + 3`` connections: ``DATABASE_POOL_SIZE`` (kept open, 10)
    plus ``DATABASE_MAX_OVERFLOW`` (opened when busy, 20) = 30 covers 27 threads, e.g.
    gunicorn ``--threads`` up to 27 per worker. A request that finds every connection busy
    waits up to ``DATABASE_POOL_TIMEOUT`` seconds (30), then fails. On PostgreSQL keep
    ``processes x 30`` (and the scheduler's few) below ``max_connections`` (100 by default).
    In-memory SQLite shares one connection (StaticPool): nothing to size.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    in_memory = uri.startswith("sqlite") and (
        uri.rstrip("/") in ("sqlite:", "sqlite+pysqlite:") or ":memory:" in uri)
    if in_memory or "poolclass" in options:
        return
    options.setdefault("pool_size", int(config.get("DATABASE_POOL_SIZE", 10)))
    options.setdefault("max_overflow", int(config.get("DATABASE_MAX_OVERFLOW", 20)))
    options.setdefault("pool_timeout", int(config.get("DATABASE_POOL_TIMEOUT", 30)))
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def check_production_ready(config: dict) -> None:
    """Refuse to run production with settings that are only safe on a laptop."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 24:
        raise ConfigError(
            "SECRET_KEY is missing, the development default, or shorter than 24 characters; "
            "set a long random SECRET_KEY before running with BUYERGROUP_ENV=production."
        )
