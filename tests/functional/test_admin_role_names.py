"""Admin pages name roles in words ("Oversight staff"), never by their stored code."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from casetracker.accounts.rules import ROLE_LABELS
from tests.conftest import Browser, login_as
from tests.factories import make_user


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(re.sub(r"\s+", " ", data.strip()))


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


async def test_admin_pages_show_role_names_in_words(browser: Browser) -> None:
    await login_as(browser, "administrator")
    other = await make_user("oversight", name="Olive Oversight")
    pages = ("/admin/roles", "/admin/users", "/admin/users/new", f"/admin/users/{other.id}",
             "/account")
    for url in pages:
        page = await browser.get(url)
        assert page.status_code == 200, url
        texts = visible_texts(page.text)
        codes = [t for t in texts if t in ROLE_LABELS]
        assert codes == [], (url, codes)
        if url != "/account":  # the administrator's own page names only their own role
            assert "Oversight staff" in texts, url
    page = await browser.get("/admin/roles")
    for label in ROLE_LABELS.values():
        assert label in visible_texts(page.text)
    spanish = visible_texts((await browser.get("/admin/users?lang=es")).text)
    assert "Personal de supervisión externa" in spanish
    assert not [t for t in spanish if t in ROLE_LABELS or t == "supervisión externa"]


async def test_the_audit_log_names_roles_in_words(browser: Browser) -> None:
    await login_as(browser, "administrator")
    other = await make_user("oversight", name="Olive Oversight")
    page = f"/admin/users/{other.id}"
    response = await browser.submit(page, f"{page}/role", data={"role": "supervisor"})
    assert response.status_code == 303
    log = " ".join(visible_texts((await browser.get("/admin/audit?action=user.role")).text))
    assert "from: Oversight staff" in log and "to: Supervisor" in log
    assert "from: oversight" not in log and "to: supervisor" not in log
