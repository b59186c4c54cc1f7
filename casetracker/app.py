"""The application factory: create_app(settings) -> Litestar."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from casetracker import db
from casetracker.accounts.middleware import SessionUserMiddleware
from casetracker.accounts.sessions import SessionConfig, make_session_store
from casetracker.auth.guards import PUBLIC, session_guard
from casetracker.settings import Settings, configure, get_settings
from casetracker.web.errors import EXCEPTION_HANDLERS
from casetracker.web.language import LanguageMiddleware
from casetracker.web.openapi import SECURITY_SCHEMES
from casetracker.web.security import security_headers
from casetracker.web.templating import template_config

log = logging.getLogger("casetracker")

# Each feature package adds its routes in <package>/routes.py: ROUTE_HANDLERS, and optionally
# ON_STARTUP / ON_SHUTDOWN lists of callables taking the app.
FEATURE_ROUTE_MODULES = (
    "casetracker.accounts.routes",
    "casetracker.audit.routes",
    "casetracker.registry.routes",
    "casetracker.intake.routes",
    "casetracker.cases.routes",
    "casetracker.evidence.routes",
    "casetracker.reports.routes",
    "casetracker.oversight.routes",
    "casetracker.ops.routes",
    # last: its runner starts after every other feature and stops before them
    "casetracker.jobs.routes",
)

SESSION_GRACE_MINUTES = 12 * 60

STATIC_DIR = __import__("pathlib").Path(__file__).resolve().parent / "static"


def _feature_modules() -> list[Any]:
    modules = []
    for name in FEATURE_ROUTE_MODULES:
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


@get("/healthz", name="healthz", opt={PUBLIC: True, "skip_session": True}, sync_to_thread=False,
      include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/staff", name="staff.home", include_in_schema=False, sync_to_thread=False)
def staff_home() -> Redirect:
    return Redirect(path="/dashboard", status_code=303)


async def run_feature_hooks(app: Litestar, name: str) -> None:
    """Run each feature's ON_STARTUP (in order) or ON_SHUTDOWN (in reverse) hooks."""
    modules = _feature_modules()
    for module in modules if name == "ON_STARTUP" else reversed(modules):
        for hook in getattr(module, name, ()):
            result = hook(app)
            if hasattr(result, "__await__"):
                await result


def logging_config(settings: Settings) -> LoggingConfig:
    """The app's logging; the CLI applies the same when it runs a command without the app."""
    return LoggingConfig(
        root={"level": "INFO", "handlers": ["queue_listener"]},
        log_exceptions="debug" if settings.debug else "never",
    )


def check_settings(settings: Settings) -> None:
    """What building the app checks of the settings beyond parsing them: an unknown storage
    backend, or an S3 backend without a bucket, fails here."""
    from casetracker.storage import get_store

    get_store(settings)


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Litestar:
    # The tests build one app per process and reuse it (tests/conftest.py, _app_for): the
    # folders and the database in the settings must be read at request time (get_settings(),
    # app.state), never captured here, apart from the session store the tests replace.
    settings = configure(settings or get_settings())
    modules = _feature_modules()
    check_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if manage_database:
            await db.open_database(settings)
        from casetracker.storage import open_stores

        await open_stores()
        await run_feature_hooks(app, "ON_STARTUP")
        try:
            yield
        finally:
            await run_feature_hooks(app, "ON_SHUTDOWN")
            from casetracker.storage import close_stores

            await close_stores()
            if manage_database:
                await db.close_database()

    session_config = SessionConfig(
        key="ct_session",
        # The stored session (and its cookie) outlive the idle limit, which the session
        # middleware enforces itself: were the store to drop an idle session first, the
        # middleware could never tell the person that their session ended after inactivity.
        max_age=(settings.session_idle_minutes + SESSION_GRACE_MINUTES) * 60,
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        store="sessions",
    )
    route_handlers: list[Any] = [healthz, staff_home]
    route_handlers.append(
        create_static_files_router(path="/static", directories=[STATIC_DIR], name="static",
                                   opt={PUBLIC: True, "skip_session": True},
                                   include_in_schema=False)
    )
    for module in modules:
        route_handlers.extend(getattr(module, "ROUTE_HANDLERS", ()))

    from casetracker.cli import CaseTrackerCLIPlugin

    app = Litestar(
        route_handlers=route_handlers,
        plugins=[CaseTrackerCLIPlugin()],
        lifespan=[lifespan],
        before_send=[security_headers(hsts=settings.secure_cookies)],
        middleware=[
            PrometheusConfig(
                app_name="casetracker", prefix="casetracker",
                # route templates ("/cases/{case_id:int}"), never the ids people asked for
                group_path=True, exclude=["^/static/", "^/metrics$"],
            ).middleware,
            LanguageMiddleware(),
            session_config.middleware,
            SessionUserMiddleware(),
        ],
        guards=[session_guard],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="ct_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            header_name="x-csrftoken",
        ),
        # Files under CASETRACKER_SESSION_DIR, or Redis when CASETRACKER_REDIS_URL is set.
        stores={"sessions": make_session_store(settings)},
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="casetracker API",
            version="1",
            path="/api/schema",
            # JSON and YAML only: the HTML viewers load scripts from elsewhere, which our CSP
            # (rightly) refuses. The schema itself is public documentation.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            openapi_router=Router(path="/api/schema", route_handlers=[],
                                  opt={PUBLIC: True, "skip_session": True}),
            description="Partner intake and case API. Authenticate case endpoints with a "
            "personal API token: `Authorization: Bearer <token>`.",
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
        include_in_schema=False,
        logging_config=logging_config(settings),
        debug=False,
        state={"settings": settings, "require_2fa_roles": settings.require_2fa_roles},
    )
    return app
