"""Per-request language: ?lang= (remembered in a cookie), the cookie, then Accept-Language."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from casetracker.web import i18n


class LanguageMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = dict((k.decode("latin-1").lower(), v.decode("latin-1"))
                       for k, v in scope.get("headers", []))
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        requested = query["lang"][0] if query.get("lang") else None
        cookie_lang = None
        if "cookie" in headers:
            jar = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:
                jar = SimpleCookie()
            if i18n.LANGUAGE_COOKIE in jar:
                cookie_lang = jar[i18n.LANGUAGE_COOKIE].value
        supported = i18n.available_languages()
        explicit = requested if requested in supported else None
        language = i18n.negotiate(headers.get("accept-language"),
                                  explicit or (cookie_lang if cookie_lang in supported else None))
        i18n.set_language(language)
        scope["language"] = language  # type: ignore[typeddict-unknown-key]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableScopeHeaders.from_message(message)
                out["content-language"] = language
                if explicit and explicit != cookie_lang:
                    out.add("set-cookie", f"{i18n.LANGUAGE_COOKIE}={explicit}; Path=/; "
                                          "Max-Age=31536000; SameSite=Lax; HttpOnly")
            await send(message)

        await next_app(scope, receive, send_wrapper)
