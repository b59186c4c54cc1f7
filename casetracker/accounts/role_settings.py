"""Which roles must use two-factor sign-in: administrators always, the roles named in
``CASETRACKER_REQUIRE_2FA_ROLES``, and the roles an administrator ticks (RoleSetting).

The middleware refreshes a small per-process cache (at most every ``CACHE_SECONDS``) so that
the session guard, which is synchronous, can read it; a change made in this process
invalidates the cache at once, other worker processes see it within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from casetracker import db
from casetracker.accounts.rules import roles_requiring_2fa
from casetracker.accounts.tables import Role, RoleSetting
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.settings import get_settings

CACHE_SECONDS = 10.0

# (engine, loaded at (monotonic), roles ticked in the database); the engine itself is kept
# (compared with "is") so that a new database, as in tests, never reads another's cache.
_cache: tuple[object, float, frozenset[str]] | None = None


def invalidate() -> None:
    global _cache
    _cache = None


async def ticked_roles() -> frozenset[str]:
    """Roles ticked by an administrator (database only), from the cache when fresh."""
    global _cache
    engine = db.current_engine()
    now = time.monotonic()
    if _cache is not None and _cache[0] is engine and now - _cache[1] < CACHE_SECONDS:
        return _cache[2]
    rows = await RoleSetting.select(RoleSetting.role).where(RoleSetting.require_2fa == True)  # noqa: E712
    roles = frozenset(row["role"] for row in rows)
    _cache = (engine, now, roles)
    return roles


async def effective_2fa_roles() -> frozenset[str]:
    return roles_requiring_2fa(set(get_settings().require_2fa_roles) | await ticked_roles())


def configured_roles() -> frozenset[str]:
    """Roles that need 2FA whatever the database says (administrators + the setting)."""
    return roles_requiring_2fa(get_settings().require_2fa_roles)


async def set_ticked_roles(actor: Actor, roles: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(r for r in roles if r in {x.value for x in Role})
    async with db.write_transaction():
        current = {row["role"]: row for row in await RoleSetting.select()}
        for role in Role:
            require = role.value in wanted
            row = current.get(role.value)
            if row is None:
                await RoleSetting.insert(RoleSetting(role=role.value, require_2fa=require))
            elif row["require_2fa"] != require:
                await RoleSetting.update({RoleSetting.require_2fa: require}).where(
                    RoleSetting.role == role.value)
        before = sorted(r for r, row in current.items() if row["require_2fa"])
        if before != sorted(wanted):
            await audit.record("role_setting.change", actor=actor, object_type="role_setting",
                               details={"require_2fa_before": before,
                                        "require_2fa_after": sorted(wanted)})
    invalidate()
    return wanted
