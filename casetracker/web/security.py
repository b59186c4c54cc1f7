"""Security headers on every response, and one charset in Content-Type."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
}


def security_headers(hsts: bool = False) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook: it wraps the whole app's ``send``, so every response carries the
    headers, including those no middleware sees (404 and 405 from the router, the CSRF
    middleware's 403, errors raised before a handler runs)."""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in HEADERS.items():
            if name not in headers:
                headers[name] = value
        if hsts:
            headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
        # Staff pages and case data never go into shared caches.
        if "cache-control" not in headers:
            headers["cache-control"] = "no-store"
        content_type = headers.get("content-type")
        if content_type and content_type.lower().count("charset=") > 1:
            headers["content-type"] = single_charset(content_type)

    return add_headers


def single_charset(content_type: str) -> str:
    """``text/csv; charset=utf-8; charset=utf-8`` -> ``text/csv; charset=utf-8`` (the first
    charset stays; some clients refuse a header that names two)."""
    parts = [p.strip() for p in content_type.split(";")]
    kept, seen = [parts[0]], False
    for part in parts[1:]:
        if part.lower().startswith("charset="):
            if seen:
                continue
            seen = True
        if part:
            kept.append(part)
    return "; ".join(kept)
