"""One-shot messages shown on the next page (post/redirect/get)."""

from __future__ import annotations

from typing import Any


def flash(request: Any, message: str, category: str = "success") -> None:
    if "session" not in request.scope:
        return
    messages = list(request.session.get("_flash", []))
    messages.append({"message": str(message), "category": category})
    request.session["_flash"] = messages


def pop_flashes(request: Any) -> list[dict[str, str]]:
    if "session" not in request.scope or not request.session:
        return []
    messages = request.session.pop("_flash", [])
    return list(messages)


def keep_for_next_page(request: Any, kind: str, payload: dict[str, Any]) -> None:
    """Something shown only once (a one-time password, recovery codes) handed from the POST
    that made it to the page its redirect opens: held in the server-side session, never in a
    URL, and removed by :func:`take_from_last_page` when that page is shown."""
    request.session["_once"] = {"kind": kind, **payload}


def take_from_last_page(request: Any, kind: str) -> dict[str, Any] | None:
    """What :func:`keep_for_next_page` kept, once; None on a reload or a second visit."""
    if "session" not in request.scope or not request.session:
        return None
    kept = request.session.get("_once")
    if not isinstance(kept, dict) or kept.get("kind") != kind:
        return None
    request.session.pop("_once", None)
    return kept
