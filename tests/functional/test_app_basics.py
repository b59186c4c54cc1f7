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


async def test_every_form_error_page_is_served_as_html(app: object, browser: Browser) -> None:
    """Handlers that return a page or a redirect default to JSON in Litestar; every page must
    still reach browsers as text/html (a 422 re-render once showed as source)."""
    from litestar.handlers import HTTPRouteHandler

    from casetracker.web.templating import HTMLTemplate

    assert HTMLTemplate("x.html.j2").media_type == "text/html"
    handlers = [h for route in app.routes for h in getattr(route, "route_handlers", [])
                if isinstance(h, HTTPRouteHandler)]
    assert handlers
    import inspect

    from litestar.response import Template

    for handler in handlers:
        module = inspect.getmodule(handler.fn)
        if module is not None and getattr(module, "Template", None) is not None:
            assert module.Template is HTMLTemplate or not issubclass(module.Template, Template), \
                f"{module.__name__} renders pages with litestar's Template; use HTMLTemplate"
