"""Personal API tokens: created and shown once, stored hashed, revocable, and accepted by
``api_auth_guard`` (used by the cases API)."""

from __future__ import annotations

from typing import Any

from litestar import get

from casetracker.accounts.tables import ApiToken
from casetracker.accounts.tokens import actor_for_token, api_auth_guard, hash_token
from casetracker.auth.actor import Actor
from casetracker.auth.guards import API, requires
from casetracker.auth.permissions import Permission
from tests.conftest import Browser, login_as
from tests.factories import make_user
from tests.factories_accounts import NEW_TOKEN, audit_actions, find


@get("/api/test-accounts/whoami", opt={API: True, "skip_session": True},
      guards=[api_auth_guard, requires(Permission.CASE_READ_ALL)], sync_to_thread=False)
def whoami(request: Any) -> dict[str, Any]:
    actor: Actor = request.scope["api_actor"]
    return {"id": actor.id, "email": actor.label, "role": actor.role}


async def create_token(browser: Browser, name: str = "nightly export") -> str:
    page = await browser.submit("/account/tokens", data={"name": name})
    assert page.status_code == 200
    assert "shown only this once" in page.text
    return find(NEW_TOKEN, page.text)


async def test_create_use_and_revoke_a_token(app: Any, browser: Browser, client: Any) -> None:
    app.register(whoami)
    user = await login_as(browser, "supervisor")
    token = await create_token(browser)
    row = await ApiToken.objects().where(ApiToken.user == user.id).first()
    assert row.token_hash == hash_token(token) and token not in row.token_prefix + row.token_hash
    page = await browser.get("/account/tokens")
    assert "nightly export" in page.text and token not in page.text  # never shown again

    api = client.__class__(transport=client._transport, base_url="http://testserver")
    async with api:
        response = await api.get("/api/test-accounts/whoami",
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.json() == {"id": user.id, "email": user.email, "role": "supervisor"}
        fresh = await ApiToken.objects().where(ApiToken.id == row.id).first()
        assert fresh.last_used_at is not None

        for header in (None, "Bearer ct_nonsense", f"Basic {token}", token):
            response = await api.get("/api/test-accounts/whoami",
                                      headers={"Authorization": header} if header else {})
            assert response.status_code == 401, header
            assert response.headers["content-type"].startswith("application/json")
            assert "Bearer" in response.headers.get("www-authenticate", "")

        await browser.get("/account/tokens")
        assert (await browser.post(f"/account/tokens/{row.id}/revoke")).status_code == 303
        response = await api.get("/api/test-accounts/whoami",
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    actions = await audit_actions(object_type="api_token")
    assert actions == ["api_token.create", "api_token.revoke"]


async def test_token_permissions_follow_the_owner_role(app: Any, browser: Browser,
                                                      client: Any) -> None:
    app.register(whoami)
    await login_as(browser, "intake")  # intake may not read all cases
    token = await create_token(browser)
    response = await client.get("/api/test-accounts/whoami",
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_disabled_owner_token_stops_working(browser: Browser) -> None:
    user = await login_as(browser, "investigator")
    token = await create_token(browser)
    assert (await actor_for_token(f"Bearer {token}", "192.0.2.1")).id == user.id
    from casetracker.accounts.services import UserService

    await UserService(Actor.system("test")).disable(user.id)
    assert await actor_for_token(f"Bearer {token}", "192.0.2.1") is None


async def test_cannot_revoke_someone_elses_token(browser: Browser, new_browser: Any) -> None:
    await login_as(browser, "investigator")
    await create_token(browser)
    row = await ApiToken.objects().first()
    other = new_browser("198.51.100.90")
    await login_as(other, "supervisor")
    await other.get("/account/tokens")
    response = await other.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 404
    assert (await ApiToken.objects().where(ApiToken.id == row.id).first()).revoked_at is None


async def test_token_form_needs_a_name_and_a_csrf_token(browser: Browser) -> None:
    await login_as(browser, "oversight")
    response = await browser.submit("/account/tokens", data={"name": "  "})
    assert response.status_code == 422 and "Give the token a name" in response.text
    response = await browser.client.post("/account/tokens", data={"name": "sneaky"})
    assert response.status_code == 403
    assert await ApiToken.count() == 0
    assert await make_user("intake")  # sanity: the database still answers
