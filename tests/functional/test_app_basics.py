from __future__ import annotations

from tests.conftest import Browser


async def test_openapi_schema_is_public(browser: Browser) -> None:
    response = await browser.get("/api/schema/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "casetracker API"


async def test_health_check(browser: Browser) -> None:
    response = await browser.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_static_css_is_served(browser: Browser) -> None:
    response = await browser.get("/static/css/app.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
