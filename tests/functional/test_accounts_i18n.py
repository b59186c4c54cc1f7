from __future__ import annotations

from tests.conftest import Browser, login_as


async def test_account_pages_in_spanish(browser: Browser) -> None:
    page = await browser.get("/login?lang=es")
    assert "Acceso del personal" in page.text
    await login_as(browser, "investigator", totp_enabled=False)  # to see the set-up page
    page = await browser.get("/account/password")
    assert "Cambie su contraseña" in page.text and "Contraseña nueva" in page.text
    page = await browser.get("/account/2fa")
    assert "escanee este código" in page.text
    await login_as(browser, "investigator")
    page = await browser.get("/notifications")
    assert "No tiene notificaciones." in page.text
