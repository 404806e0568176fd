"""Buyergroup: where European public buyers work together on ethical ICT procurement."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from buyergroup.config import check_production_ready, from_environment, size_database_pool
from buyergroup.extensions import babel, csrf, db, limiter, login_manager, migrate
from buyergroup.templating import COMPILED_TEMPLATES
from buyergroup.urls import CompiledOnceRule


def create_app(config: dict | None = None) -> Flask:
    """Application factory: ``config`` overrides what the environment says."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    # Compiled once per process, not once per app (the test suite makes dozens of apps).
    app.url_rule_class = CompiledOnceRule
    app.jinja_options = {**app.jinja_options, "bytecode_cache": COMPILED_TEMPLATES}
    app.config.update(from_environment())
    if config:
        app.config.update(config)
    size_database_pool(app.config)
    check_production_ready(app.config)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.instance_path = app.config["INSTANCE_PATH"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("MAX_CONTENT_LENGTH", (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024)

    from buyergroup.i18n import select_locale, select_timezone

    db.init_app(app)
    from buyergroup.database import configure_sqlite

    with app.app_context():  # WAL and a busy timeout on every SQLite connection
        for engine in db.engines.values():
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(
        app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
    )
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).resolve().parent / "translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    from buyergroup.search import service as search_service

    search_service.init_app(app)
    from buyergroup.core import kept_regions, page_cache

    page_cache.init_app(app)  # after the search hooks: it counts the index updates they queue
    kept_regions.init_app(app)
    _init_login(app)

    from buyergroup import models  # noqa: F401 - registers every table with the metadata
    from buyergroup.accounts.views import bp as accounts_bp
    from buyergroup.admin.views import bp as admin_bp
    from buyergroup.api import bp as api_bp
    from buyergroup.community.views import bp as community_bp
    from buyergroup.core import html, params
    from buyergroup.core.views import bp as core_bp
    from buyergroup.discussions.views import bp as discussions_bp
    from buyergroup.events.views import bp as events_bp
    from buyergroup.glossary.views import bp as glossary_bp
    from buyergroup.labels.views import bp as labels_bp
    from buyergroup.library.views import bp as library_bp
    from buyergroup.network.views import bp as network_bp
    from buyergroup.statements.views import bp as statements_bp
    from buyergroup.toolkit.views import bp as toolkit_bp
    from buyergroup.toolkit.views import items_bp as toolkit_items_bp

    params.install(app)  # before the blueprints: their rules take the bounded int converter
    html.install()
    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(library_bp)
    app.register_blueprint(glossary_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(discussions_bp)
    app.register_blueprint(statements_bp)
    app.register_blueprint(labels_bp)
    app.register_blueprint(toolkit_bp)
    app.register_blueprint(toolkit_items_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(community_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    # A visitor's language form carries no token, so that visitors' pages hold nothing of
    # their session and can be kept whole (core/page_cache.py); the view checks the token
    # of a signed-in member's form itself.
    csrf.exempt("buyergroup.core.views.set_language")

    from buyergroup.cli import register_cli
    from buyergroup.errors import register_error_handlers
    from buyergroup.security import register_security
    from buyergroup.templating import register_template_helpers

    register_error_handlers(app)
    register_security(app)
    register_template_helpers(app)
    register_cli(app)
    from buyergroup.audit import register_audit

    register_audit(app)
    from buyergroup.privacy import register_privacy

    register_privacy(app)
    from buyergroup.privacy.api import bp as privacy_api_bp

    csrf.exempt(privacy_api_bp)  # bearer tokens, like the rest of the API
    from buyergroup.community import register_community

    register_community(app)
    from buyergroup import static_files

    static_files.install(app)  # content-hashed names, cached for a year
    from buyergroup import boundary

    boundary.install(app)  # last: it wraps every view registered above
    return app


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from buyergroup.accounts.sessions import load_user

    # Sessions live on the server (user_sessions), so signing out really ends them.
    login_manager.user_loader(load_user)
