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
