"""Data errors the database raises are answered as the visitor's mistake, never a 500."""

from __future__ import annotations

from typing import Any

from asyncpg.exceptions import StringDataRightTruncationError
from litestar import Litestar, get

from casetracker.web.errors import EXCEPTION_HANDLERS


def _app(exc: Exception) -> Litestar:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise exc

    from litestar.static_files import create_static_files_router

    from casetracker.app import STATIC_DIR
    from casetracker.web.templating import template_config

    static = create_static_files_router(path="/static", directories=[STATIC_DIR], name="static")
    return Litestar([boom, static], exception_handlers=EXCEPTION_HANDLERS,
                    template_config=template_config())


async def _get(app: Any, accept: str) -> Any:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/boom", headers={"accept": accept})


async def test_over_long_text_is_a_clear_422_not_a_500() -> None:
    app = _app(StringDataRightTruncationError("value too long for type character varying(200)"))
    response = await _get(app, "text/html")
    assert response.status_code == 422
    assert "longer than allowed" in response.text
    assert "character varying" not in response.text  # no database detail reaches the page


async def test_id_beyond_the_integer_range_is_not_found() -> None:
    response = await _get(_app(OverflowError("Python int too large to convert to SQLite INTEGER")),
                          "text/html")
    assert response.status_code == 404
