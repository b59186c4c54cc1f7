"""The empty complaint form is rendered once per language and served from memory with each
visitor's own CSRF token: every visitor can still send it, and nobody is shown another
visitor's answers or token."""

from __future__ import annotations

from typing import Any

from tests.conftest import Browser
from tests.factories_intake import complaint_fields, save_form


async def test_each_visitor_gets_their_own_token_and_can_continue(browser: Browser,
                                                                  new_browser: Any) -> None:
    first = await browser.csrf_for("/complaint?lang=en")
    other: Browser = new_browser()
    second = await other.csrf_for("/complaint?lang=en")
    assert first and second and first != second
    # Each token is the one that visitor's cookie expects: both forms go through.
    for visitor in (browser, other):
        saved = await save_form(visitor, {**complaint_fields(), "action": "review"})
        assert saved.status_code == 303, saved.text[:2000]
        assert saved.headers["location"].startswith("/complaint/review")
    # A token never works with another visitor's cookie.
    crossed = await other.client.post("/complaint?lang=en", data={
        "_csrf_token": first, **complaint_fields(), "action": "review"},
        files={"files": ("", b"", "application/octet-stream")})
    assert crossed.status_code == 403


async def test_the_cached_form_follows_the_language(new_browser: Any) -> None:
    visitor: Browser = new_browser()
    english = await visitor.get("/complaint?lang=en")
    spanish = await visitor.get("/complaint?lang=es")
    again = await visitor.get("/complaint?lang=en")
    assert "File a complaint" in english.text and 'lang="en"' in english.text
    assert 'lang="es"' in spanish.text and "Presentar una queja" in spanish.text
    assert again.text.replace(visitor.last_csrf or "", "") == english.text.replace(
        visitor.last_csrf or "", "")
    assert english.headers["cache-control"] == "no-store"


async def test_a_visitor_with_a_draft_sees_their_answers_not_the_empty_form(
        browser: Browser, new_browser: Any) -> None:
    fields = complaint_fields(narrative="The deputy asked where I was born, twice.")
    saved = await save_form(browser, {**fields, "action": "review"})
    assert saved.status_code == 303
    mine = await browser.get("/complaint?lang=en")
    assert "asked where I was born, twice" in mine.text
    stranger = await new_browser().get("/complaint?lang=en")
    assert "asked where I was born" not in stranger.text


async def test_a_first_visit_is_served_without_rendering_again(
        new_browser: Any, monkeypatch: Any) -> None:
    from casetracker.intake import controllers

    first = await new_browser().get("/complaint?lang=en")
    assert first.status_code == 200

    def no_render(*args: Any) -> dict[str, Any]:
        raise AssertionError("the empty form was built again")

    monkeypatch.setattr(controllers, "_form_context", no_render)
    later: Browser = new_browser("198.51.100.77")
    again = await later.get("/complaint?lang=en")
    assert again.status_code == 200 and "File a complaint" in again.text
    assert later.last_csrf and later.last_csrf != ""
