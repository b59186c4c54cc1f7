"""Sessions in files (the embedded default) and in Redis (CASETRACKER_REDIS_URL): where they
live, rotation at sign-in, logout; and with two app servers that share nothing on disk
(separate var directories) behind a round-robin balancer: Redis sessions hold across them,
and the per-address rate limit and the login lock-out (both in the database) hold across them
whatever the session store."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from casetracker.app import SESSION_GRACE_MINUTES
from casetracker.settings import configure
from tests.conftest import Browser
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.session_stores


def session_store_of(app: Any) -> Any:
    return app.stores.get("sessions")


async def redis_ttl(settings: Any, session_id: str) -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url)
    try:
        return int(await client.ttl(f"{settings.redis_namespace}:sessions:{session_id}"))
    finally:
        await client.aclose()


async def test_a_session_lives_in_the_configured_store_and_logout_removes_it(
        app: Any, browser: Browser, settings: Any) -> None:
    user = await make_user("investigator")
    await browser.login(user.email, DEFAULT_PASSWORD)
    session_id = browser.client.cookies.get("ct_session")
    store = session_store_of(app)
    assert await store.exists(session_id)
    on_disk = list(settings.session_dir.iterdir()) if settings.session_dir.exists() else []
    if settings.redis_url:
        assert on_disk == []  # nothing on this machine's disk
        # the key expires by itself (the middleware ends idle sessions sooner, saying why)
        ttl = await redis_ttl(settings, session_id)
        limit = (settings.session_idle_minutes + SESSION_GRACE_MINUTES) * 60
        assert limit - 60 < ttl <= limit
    else:
        assert len(on_disk) == 1
    await browser.get("/account")
    assert (await browser.post("/logout")).status_code == 303
    assert not await store.exists(session_id)


async def test_sign_in_rotates_a_planted_session_id(app: Any, browser: Browser,
                                                    settings: Any) -> None:
    """Session fixation: an id chosen by someone else before sign-in never becomes signed
    in; the stored session under it is removed."""
    store = session_store_of(app)
    planted = "planted-by-an-attacker-0123456789abcdef"
    await store.set(planted, b'{"next": "/account"}', expires_in=600)
    browser.client.cookies.set("ct_session", planted, domain="testserver.local")
    user = await make_user("investigator")
    await browser.login(user.email, DEFAULT_PASSWORD)
    assert browser.client.cookies.get("ct_session") != planted
    assert not await store.exists(planted)
    assert (await browser.get("/account")).status_code == 200


# --- two app servers --------------------------------------------------------------------

class RoundRobin:
    """A load balancer in front of several ASGI apps: each request goes to the next one."""

    def __init__(self, *apps: Any) -> None:
        self.apps = apps
        self.turn = itertools.cycle(range(len(apps)))
        self.served: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        index = next(self.turn)
        self.served.append(index)
        await self.apps[index](scope, receive, send)


@pytest.fixture
async def two_servers(settings: Any, tmp_path: Any) -> AsyncIterator[RoundRobin]:
    """Two apps on one database (and one Redis when configured), each with its own var
    directory: session files, evidence, outbox; nothing shared by disk."""
    from casetracker.app import create_app, run_feature_hooks

    apps = []
    for name in ("server-a", "server-b"):
        var_dir = tmp_path / name
        var_dir.mkdir()
        own = settings.replace(var_dir=var_dir, session_dir=var_dir / "sessions",
                               evidence_dir=var_dir / "evidence", outbox_dir=var_dir / "outbox")
        app = create_app(own, manage_database=False)
        await run_feature_hooks(app, "ON_STARTUP")
        apps.append(app)
    yield RoundRobin(*apps)
    for app in apps:
        await run_feature_hooks(app, "ON_SHUTDOWN")
        await session_store_of(app).__aexit__(None, None, None)
    configure(settings)


def browser_on(balancer: RoundRobin, ip: str) -> Browser:
    transport = httpx.ASGITransport(app=balancer, client=(ip, 50000))
    return Browser(httpx.AsyncClient(transport=transport, base_url="http://testserver"))


@pytest.mark.parametrize("session_store", ["redis"], indirect=True)
async def test_redis_sessions_hold_across_app_servers(two_servers: RoundRobin,
                                                      settings: Any) -> None:
    user = await make_user("investigator")
    browser = browser_on(two_servers, "198.51.100.20")
    try:
        # the form comes from one server, the POST goes to the other
        await browser.login(user.email, DEFAULT_PASSWORD)
        for _ in range(4):  # alternately served by each server
            assert (await browser.get("/account")).status_code == 200
        assert set(two_servers.served) == {0, 1}
        await browser.get("/account")
        assert (await browser.post("/logout")).status_code == 303
        for _ in range(2):  # ended on both
            response = await browser.get("/account")
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")
    finally:
        await browser.client.aclose()


async def test_rate_limit_and_login_lockout_hold_across_app_servers(
        two_servers: RoundRobin, settings: Any) -> None:
    configure(settings.replace(public_rate_limit_per_hour=3))
    public = browser_on(two_servers, "203.0.113.80")
    try:
        answers = []
        for _ in range(4):
            response = await public.submit("/status", data={
                "tracking_number": "CT-2345-6789", "access_code": "nope"})
            answers.append(response.status_code)
        assert answers == [422, 422, 422, 429]
    finally:
        await public.client.aclose()

    user = await make_user("investigator")
    attacker = browser_on(two_servers, "203.0.113.81")
    try:
        for _ in range(settings.login_max_failures):
            response = await attacker.submit("/login", data={"email": user.email,
                                                             "password": "wrong guess"})
            assert response.status_code == 422
        for _ in range(2):  # locked out on both servers, even with the right password
            response = await attacker.submit("/login", data={"email": user.email,
                                                             "password": DEFAULT_PASSWORD})
            assert response.status_code == 429
        assert set(two_servers.served) == {0, 1}
    finally:
        await attacker.client.aclose()
