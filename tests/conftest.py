"""Test infrastructure: one suite, run against SQLite and PostgreSQL.

- ``CASETRACKER_TEST_ENGINES`` picks the engines (default "sqlite,postgres"). PostgreSQL tests
  skip with the reason printed when no server answers, unless ``CASETRACKER_TEST_REQUIRE_ALL``
  is set (CI sets it), in which case they fail.
- The schema always comes from running the migrations: once per engine and test process
  into a template database, so every test starts from an empty, migrated database: on SQLite
  a copy of the template file; on PostgreSQL one working database per test process, put back
  to the template's state before each test (``tests/pg_reset.py``: the tables the previous
  test filled are emptied, the migrations' rows and the sequences restored). Each PostgreSQL
  test still gets its own ``database_url`` (the ``application_name`` in it names the test), so
  anything keyed on the URL, like the oversight figures' cache, starts empty, as on SQLite.
- Runs in parallel with pytest-xdist (``make test`` uses ``-n auto``): each worker has its own
  temporary folder, template and working database.
- Functional tests talk HTTP to the real app in the test's own event loop, with the real
  CSRF token (see ``Browser``).
- Storage and sessions: every test uses the embedded defaults (local disk, session files)
  unless its module or function is marked ``storage_backends`` (then it runs once per backend
  in ``CASETRACKER_TEST_STORAGE``, default "local,s3") or ``session_stores`` (once per store
  in ``CASETRACKER_TEST_SESSIONS``, default "files,redis"). S3 is a real SeaweedFS started
  once per run on free ports (tests/servers.py), each test under its own key prefix; Redis is
  the one at ``CASETRACKER_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0), each test
  under its own key namespace, all removed at the end. Both skip with the reason printed
  when they cannot be had, and fail instead under ``CASETRACKER_TEST_REQUIRE_ALL``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

_TMP = Path(tempfile.mkdtemp(prefix="casetracker-tests-"))
os.environ["CASETRACKER_VAR_DIR"] = str(_TMP / "var")
os.environ.setdefault("CASETRACKER_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ["CASETRACKER_DATABASE_URL"] = f"sqlite:///{_TMP / 'bootstrap.sqlite3'}"

import httpx  # noqa: E402
import pytest  # noqa: E402

from casetracker import db  # noqa: E402
from casetracker.accounts import passwords as _passwords  # noqa: E402

# Production argon2 parameters cost ~0.1-1 s per hash by design; tests sign in hundreds of
# times, so they use the same algorithm with the cheapest parameters.
_passwords._hasher = _passwords.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_passwords._DUMMY_HASH = _passwords._hasher.hash("not-a-real-password")
from casetracker.reports import rendering as _rendering  # noqa: E402
from casetracker.reports import routes as _reports_routes  # noqa: E402
from casetracker.settings import configure, load_settings  # noqa: E402
from casetracker.storage import close_stores  # noqa: E402


def _keep_pdf_workers(app: Any = None) -> None:
    """The tests' stand-in for the app's ON_SHUTDOWN ``rendering.shutdown_pool``: the PDF worker
    processes outlive each test's app and serve the next test in this process (they turn HTML
    into PDF bytes and hold nothing of a test: no settings, database or files). Starting two
    spawned workers (Python, casetracker, WeasyPrint, fonts) again for every test that
    rendered a PDF cost seconds of CPU each time. They are shut down at the end of the run
    (``pytest_sessionfinish``); a test may still shut them down itself."""


_reports_routes.ON_SHUTDOWN = [_keep_pdf_workers if hook is _rendering.shutdown_pool else hook
                               for hook in _reports_routes.ON_SHUTDOWN]

PG_ADMIN_DSN = os.environ.get("CASETRACKER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = [e.strip()
           for e in os.environ.get("CASETRACKER_TEST_ENGINES", "sqlite,postgres").split(",")
           if e.strip()]
REQUIRE_ALL = os.environ.get("CASETRACKER_TEST_REQUIRE_ALL", "") not in ("", "0", "false")
# Shared by the pytest-xdist workers of one run (their databases share this prefix, so the
# controlling process can drop whatever a crashed worker left); each worker adds its name.
_RUN_UUID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
RUN_ID = _RUN_UUID[:8]
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
STORAGE_BACKENDS = [b.strip() for b in os.environ.get(
    "CASETRACKER_TEST_STORAGE", "local,s3").split(",") if b.strip()]
SESSION_STORES = [b.strip() for b in os.environ.get(
    "CASETRACKER_TEST_SESSIONS", "files,redis").split(",") if b.strip()]
REDIS_URL = os.environ.get("CASETRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_NAMESPACE = f"ct_test_{RUN_ID}_{WORKER}"  # a worker cleans up only its own keys
S3_BUCKET = "casetracker-test"

# The real data (ICE's sheets, complaint extracts) is not in the repository: it is expected in
# ../shared/data beside the clone, or wherever CASETRACKER_SHARED_DATA says. Tests that need it
# carry @pytest.mark.shared_data("ice-287g/...") and skip, with the reason, when it is absent
# (a failure when CASETRACKER_TEST_REQUIRE_ALL is set, as in CI).
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("CASETRACKER_SHARED_DATA")
                   or REPO_ROOT.parent / "shared" / "data").expanduser()


def pytest_configure(config: pytest.Config) -> None:
    if WORKER == "main" and hasattr(config.option, "testrunuid") and not config.option.testrunuid:
        config.option.testrunuid = _RUN_UUID  # the workers' RUN_ID is then this process's


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"casetracker engines: {', '.join(ENGINES)}; require all: {REQUIRE_ALL}; "
            f"storage (marked tests): {', '.join(STORAGE_BACKENDS)}; "
            f"sessions (marked tests): {', '.join(SESSION_STORES)}; "
            f"shared data: {SHARED_DATA}"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("shared_data"):
        missing = [name for name in mark.args if not (SHARED_DATA / name).exists()]
        if missing:
            reason = (f"shared data missing: {', '.join(missing)} not found under {SHARED_DATA} "
                      "(put the shared folder beside the repository or set "
                      "CASETRACKER_SHARED_DATA to its data folder)")
            if REQUIRE_ALL:
                pytest.fail(reason)
            pytest.skip(reason)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    explicit = {name.strip() for mark in metafunc.definition.iter_markers("parametrize")
                for name in (mark.args[0].split(",") if isinstance(mark.args[0], str)
                             else mark.args[0])}
    for marker, name, values in (("storage_backends", "storage_backend", STORAGE_BACKENDS),
                                 ("session_stores", "session_store", SESSION_STORES)):
        if (metafunc.definition.get_closest_marker(marker) and name in metafunc.fixturenames
                and name not in explicit):  # a test may pin one with its own parametrize
            metafunc.parametrize(name, values, indirect=True)


@pytest.fixture
def storage_backend(request: pytest.FixtureRequest) -> str:
    """"local" unless the test is marked ``storage_backends`` (then each in turn)."""
    return getattr(request, "param", "local")


@pytest.fixture
def session_store(request: pytest.FixtureRequest) -> str:
    """"files" unless the test is marked ``session_stores`` (then each in turn)."""
    return getattr(request, "param", "files")


def _unavailable(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[Any]:
    """One SeaweedFS for the whole run, started on first use (about 4 s), stopped at the end;
    the reason it could not start otherwise (a string)."""
    from tests.servers import start_seaweedfs

    try:
        server = start_seaweedfs(_TMP / "seaweedfs")
        server.create_bucket(S3_BUCKET)
    except Exception as exc:
        yield f"SeaweedFS (S3) could not start: {exc}"
        return
    try:
        yield server
    finally:
        server.stop()


_redis_status: dict[str, Any] = {}


def _redis_unavailable() -> str | None:
    if "reason" not in _redis_status:
        from tests.servers import redis_reason

        _redis_status["reason"] = redis_reason(REDIS_URL)
    return _redis_status["reason"]


def _with_backends(base: Any, request: pytest.FixtureRequest, storage_backend: str,
                   session_store: str) -> Any:
    """``base`` switched to the storage backend and session store under test."""
    if storage_backend == "s3":
        server = request.getfixturevalue("seaweedfs")
        if isinstance(server, str):
            _unavailable(server)
        from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY

        base = base.replace(storage_backend="s3", s3_endpoint=server.endpoint,
                            s3_bucket=S3_BUCKET, s3_access_key_id=S3_ACCESS_KEY,
                            s3_secret_access_key=S3_SECRET_KEY,
                            s3_prefix=f"run-{RUN_ID}/{uuid.uuid4().hex[:12]}")
    elif storage_backend != "local":
        raise ValueError(f"unknown storage backend {storage_backend!r}")
    if session_store == "redis":
        reason = _redis_unavailable()
        if reason:
            _unavailable(reason)
        _redis_status["used"] = True
        own = f"{REDIS_NAMESPACE}_{uuid.uuid4().hex[:10]}"  # sessions and job queue
        base = base.replace(redis_url=REDIS_URL, redis_namespace=own, queue_name=own)
    elif session_store != "files":
        raise ValueError(f"unknown session store {session_store!r}")
    return base


def _dsn_for(database: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_pg_status: dict[str, Any] = {}


async def _postgres_available() -> str | None:
    if "reason" not in _pg_status:
        try:
            await _pg_admin("SELECT 1")
            _pg_status["reason"] = None
        except Exception as exc:
            _pg_status["reason"] = f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
    return _pg_status["reason"]


_templates: dict[str, str] = {}
_pg_work: dict[str, Any] = {}
_test_numbers = itertools.count(1)


async def _template_for(engine: str) -> str:
    """Migrate an empty database once per engine; return its path or name."""
    if engine in _templates:
        return _templates[engine]
    if engine == "sqlite":
        path = _TMP / "template.sqlite3"
        settings = configure(load_settings().replace(database_url=f"sqlite:///{path}"))
        await db.open_database(settings)
        await db.migrate()
        await db.close_database()
        _templates[engine] = str(path)
    else:
        name = f"ct_{RUN_ID}_{WORKER}_tmpl"
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        await _pg_admin(f'CREATE DATABASE "{name}"')
        settings = configure(load_settings().replace(database_url=_dsn_for(name), db_pool_max=2))
        await db.open_database(settings)
        await db.migrate()
        await db.close_database()
        _templates[engine] = name
    return _templates[engine]


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def settings(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest,
                   storage_backend: str, session_store: str) -> AsyncIterator[Any]:
    """Settings for a fresh, migrated, bound database of the engine under test (and the
    storage backend and session store under test)."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    base = load_settings().replace(
        var_dir=var_dir,
        evidence_dir=var_dir / "evidence",
        outbox_dir=var_dir / "outbox",
        session_dir=var_dir / "sessions",
        # Tests run background jobs explicitly (``await jobs.run_due()``), when they choose.
        jobs_in_process=False,
        audit_checkpoint_dir=var_dir / "audit-checkpoints",
    )
    base = _with_backends(base, request, storage_backend, session_store)
    if engine_name == "postgres":
        reason = await _postgres_available()
        if reason:
            if REQUIRE_ALL:
                pytest.fail(reason)
            pytest.skip(reason)
    template = await _template_for(engine_name)
    if engine_name == "sqlite":
        path = var_dir / "casetracker.sqlite3"
        shutil.copyfile(template, path)
        current = configure(base.replace(database_url=f"sqlite:///{path}"))
        await db.open_database(current)
        try:
            yield current
        finally:
            await close_stores()
            await db.close_database()
    else:
        work = _pg_work.get("database")
        if work is None:
            from tests.pg_reset import ResettableDatabase

            work = ResettableDatabase(name=f"ct_{RUN_ID}_{WORKER}", template=template,
                                      admin_dsn=PG_ADMIN_DSN)
            await work.create()
            _pg_work["database"] = work
        await work.reset()
        url = f"{work.dsn()}?application_name=ct_test_{WORKER}_{next(_test_numbers)}"
        current = configure(base.replace(database_url=url, db_pool_min=1, db_pool_max=4))
        await db.open_database(current)
        try:
            yield current
        finally:
            await close_stores()
            await db.close_database()


async def _drop_run_databases() -> None:
    """Drop this process's databases; the controlling process (or a run without workers) also
    drops whatever a crashed worker of this run left."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        names = [f"ct_{RUN_ID}_{WORKER}", f"ct_{RUN_ID}_{WORKER}_tmpl"]
        if WORKER == "main":
            names += [r["datname"] for r in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"ct\\_{RUN_ID}\\_%")]
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _rendering.shutdown_pool()
    if _redis_status.get("used"):
        try:
            from tests.servers import delete_redis_keys

            delete_redis_keys(REDIS_URL, f"{REDIS_NAMESPACE}_*")
        except Exception:  # noqa: S110 - best effort clean-up
            pass
    if "postgres" in _templates or (WORKER == "main" and "postgres" in ENGINES):
        try:
            asyncio.run(_drop_run_databases())
        except Exception:  # noqa: S110 - best effort clean-up
            pass
    shutil.rmtree(_TMP, ignore_errors=True)


# What differs from one test to the next in the settings (the database and every folder under
# the test's var/) is read by the app when asked (get_settings(), app.state, the session
# store), not when it is built; the rest of the settings picks the app.
_apps: dict[Any, Any] = {}
_MAX_APPS = 4


def _per_test_settings(settings: Any) -> dict[str, None]:
    import dataclasses

    # and what the storage and session fixtures give each test (its own key prefix in the
    # bucket, its own key namespace and job queue in Redis): read when asked, too
    fields = {"database_url": None, "var_dir": None, "s3_prefix": None,
              "redis_namespace": None, "queue_name": None}
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if isinstance(value, Path) and value.is_relative_to(settings.var_dir):
            fields[item.name] = None
    return fields


def _app_for(settings: Any) -> Any:
    """``create_app(settings)``, built once per test process for each distinct rest of the
    settings: building the app (registering ~250 routes, compiling templates afresh) was about
    half of the CPU time of a functional test. The app gets this test's settings in
    ``app.state`` and a session store in this test's folder, exactly as a fresh app would."""
    from casetracker.accounts.sessions import make_session_store
    from casetracker.app import create_app

    key = settings.replace(**_per_test_settings(settings))
    application = _apps.get(key)
    if application is None:
        while len(_apps) >= _MAX_APPS:
            _apps.pop(next(iter(_apps)))
        application = _apps[key] = create_app(settings, manage_database=False)
        return application
    configure(settings)  # as create_app does
    application.stores.register("sessions", make_session_store(settings), allow_override=True)
    application.state["settings"] = settings
    application.state["require_2fa_roles"] = settings.require_2fa_roles
    return application


def _app_shape(application: Any) -> tuple[Any, ...]:
    return (len(application.routes), tuple(sorted(application.state)))


def _forget_app_if_changed(application: Any, shape: tuple[Any, ...]) -> None:
    """A test that changed its app (``app.register(handler)``, new state) leaves it to
    nobody else: the next test builds a fresh one."""
    if _app_shape(application) != shape:
        for key, cached in list(_apps.items()):
            if cached is application:
                del _apps[key]


@pytest.fixture
async def app(settings: Any) -> AsyncIterator[Any]:
    from casetracker.app import run_feature_hooks

    application = _app_for(settings)
    shape = _app_shape(application)
    # The fixture's set-up and tear-down run in different tasks, which Litestar's own lifespan
    # (anyio cancel scopes) refuses; the database is already open, so run the feature hooks.
    await run_feature_hooks(application, "ON_STARTUP")
    try:
        yield application
        await run_feature_hooks(application, "ON_SHUTDOWN")
    finally:
        # What Litestar's lifespan would close: the session store's client (Redis).
        await application.stores.get("sessions").__aexit__(None, None, None)
        _forget_app_if_changed(application, shape)


CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """An HTTP client that behaves like a person's browser: it keeps cookies, reads the CSRF
    token from the form it was shown and sends it back."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.last_csrf: str | None = None

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        match = CSRF_INPUT.search(response.text) if "text/html" in response.headers.get(
            "content-type", "") else None
        if match:
            self.last_csrf = match.group(1)
        return response

    async def csrf_for(self, page_url: str) -> str:
        await self.get(page_url)
        assert self.last_csrf, f"no CSRF token on {page_url}"
        return self.last_csrf

    async def submit(self, page_url: str, action: str | None = None, data: Any = None,
                     files: Any = None, **kwargs: Any) -> httpx.Response:
        """Open ``page_url``, then post ``data`` to ``action`` (default: the same URL) with the
        page's CSRF token."""
        token = await self.csrf_for(page_url)
        payload: Any
        if isinstance(data, list):
            payload = [("_csrf_token", token), *data]
        else:
            payload = {"_csrf_token": token, **(data or {})}
        return await self.client.post(action or page_url, data=payload, files=files, **kwargs)

    async def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        """Post with the token from the last page seen."""
        payload: Any
        if isinstance(data, list):
            payload = [("_csrf_token", self.last_csrf or ""), *data]
        else:
            payload = {"_csrf_token": self.last_csrf or "", **(data or {})}
        return await self.client.post(url, data=payload, **kwargs)

    async def login(self, email: str, password: str, totp_secret: str | None = None
                    ) -> httpx.Response:
        response = await self.submit("/login", data={"email": email, "password": password})
        assert response.status_code == 303, response.text[:500]
        if response.headers["location"].startswith("/login/2fa"):
            from tests.factories import TEST_TOTP_SECRET, fresh_totp_code

            code = await fresh_totp_code(email, totp_secret or TEST_TOTP_SECRET)
            response = await self.submit("/login/2fa", data={"code": code})
            assert response.status_code == 303, response.text[:500]
        return response


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> Browser:
    return Browser(client)


@pytest.fixture
async def new_browser(app: Any) -> AsyncIterator[Any]:
    """A factory for more browsers (other people, other addresses) on the same app."""
    clients: list[httpx.AsyncClient] = []

    def make(ip: str = "198.51.100.10") -> Browser:
        transport = httpx.ASGITransport(app=app, client=(ip, 50001))
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(c)
        return Browser(c)

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
def make_staff(settings: Any) -> Any:
    """Create a signed-in-able staff user: ``await make_staff("investigator")``."""
    from tests.factories import make_user

    return make_user


async def login_as(browser: Browser, role: str, **kwargs: Any) -> Any:
    from tests.factories import DEFAULT_PASSWORD, make_user

    user = await make_user(role, **kwargs)
    await browser.login(user.email, DEFAULT_PASSWORD)
    return user

