"""Server-side sessions that rotate their id at login (no session fixation) and that
logout really ends (the stored session is deleted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

ROTATE_KEY = "_rotate"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        if scope_session is Empty or not scope_session.pop(ROTATE_KEY, False):
            await super().store_in_message(scope_session, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        old_id = connection.cookies.get(self.config.key)
        if old_id and old_id != "null":
            await self.delete(old_id, store=store)
        new_id = self.generate_session_id()
        await self.set(session_id=new_id, data=self.serialize_data(scope_session, connection.scope),
                       store=store)
        cookie_params = dict(extract_dataclass_items(self.config, exclude_none=True,
                                                     include=Cookie.__dict__.keys()))
        cookie = Cookie(value=new_id, key=self.config.key, **cookie_params)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class: type[RotatingSessionBackend] = field(default=RotatingSessionBackend)  # type: ignore[assignment]


def rotate_session(session: dict[str, Any]) -> None:
    session[ROTATE_KEY] = True
