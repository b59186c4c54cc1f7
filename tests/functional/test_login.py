from __future__ import annotations

from tests.conftest import Browser
from tests.factories import DEFAULT_PASSWORD, make_user


async def test_login_page_renders_with_csrf_token(browser: Browser) -> None:
    response = await browser.get("/login")
    assert response.status_code == 200
    assert "Staff sign in" in response.text
    assert browser.last_csrf


async def test_wrong_password_is_refused_and_email_kept(browser: Browser) -> None:
    user = await make_user("investigator")
    response = await browser.submit("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 422
    # a page, not data: browsers must render it
    assert response.headers["content-type"].startswith("text/html")
    assert "is not right" in response.text
    assert f'value="{user.email}"' in response.text


async def test_login_without_csrf_token_is_refused(browser: Browser) -> None:
    user = await make_user("investigator")
    await browser.get("/login")
    response = await browser.client.post("/login", data={"email": user.email,
                                                         "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert "form expired" in response.text, response.text


async def test_protected_page_redirects_to_login(browser: Browser) -> None:
    response = await browser.get("/staff")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_security_headers_on_every_response(browser: Browser) -> None:
    response = await browser.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


async def test_logout_really_ends_the_session(browser: Browser) -> None:
    user = await make_user("supervisor")
    await browser.login(user.email, DEFAULT_PASSWORD)
    old_cookie = browser.client.cookies.get("ct_session")
    await browser.get("/login")
    response = await browser.post("/logout")
    assert response.status_code == 303
    # Replaying the old session cookie does not sign anyone in.
    browser.client.cookies.set("ct_session", old_cookie)
    response = await browser.get("/staff")
    assert response.headers["location"].startswith("/login")


async def test_unknown_page_is_a_real_404_page(browser: Browser) -> None:
    response = await browser.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code in (303, 404)
