"""Server-side sessions that rotate their id at login (no session fixation) and that
logout really ends (the stored session is deleted).

Where they are stored: files under ``CASETRACKER_SESSION_DIR`` (the embedded default: one
machine, any number of workers), or Redis when ``CASETRACKER_REDIS_URL`` is set (any number
of machines). Both expire a session after ``CASETRACKER_SESSION_IDLE_MINUTES`` without a
request (Redis by the key's TTL, renewed on each request). Ending every session of a person
(disabled account, password change or reset) does not depend on the store: the session
middleware checks the account and its password version on every request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
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
    _backend_class: type[RotatingSessionBackend] = field(default=RotatingSessionBackend)


def rotate_session(session: dict[str, Any]) -> None:
    session[ROTATE_KEY] = True


_session_store: Store | None = None


def make_session_store(settings: Any) -> Store:
    """The session store of ``settings``: Redis when ``redis_url`` is set, files otherwise."""
    global _session_store
    store: Store
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        store = RedisStore.with_client(url=settings.redis_url,
                                       namespace=f"{settings.redis_namespace}:sessions")
    else:
        from litestar.stores.file import FileStore

        settings.session_dir.mkdir(parents=True, exist_ok=True)
        store = FileStore(path=settings.session_dir)
    _session_store = store
    return store


async def sessions_ready() -> None:
    """For the readiness check: raises when the session store cannot be used (Redis not
    answering, or the session directory not writable). One round trip to Redis."""
    from casetracker.settings import get_settings

    settings = get_settings()
    store = _session_store
    if store is None:
        store = make_session_store(settings)
    if settings.redis_url:
        await store.exists("readiness-probe")  # raises when Redis does not answer
        return
    if not os.access(settings.session_dir, os.W_OK | os.X_OK):
        raise OSError(f"session directory {settings.session_dir} is not writable")
