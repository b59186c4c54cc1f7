"""Which roles must use two-factor sign-in.

- Administrators and the roles named in ``CASETRACKER_REQUIRE_2FA_ROLES``: always (the admin
  page cannot change it).
- Every role that can see complainants' identity or evidence
  (``policies.roles_seeing_identity_or_evidence``): by default. An administrator may *relax*
  it for such a role at ``/admin/roles``; that is recorded in the audit log
  (``role_setting.change`` with ``details.relaxed``).
- Any other role: when an administrator ticks it.

``role_setting`` holds only the administrators' departures from the default (a row per role
whose choice differs from it), so a role that gains access to evidence later needs 2FA at once.

The middleware refreshes a small per-process cache (at most every ``CACHE_SECONDS``) so that
the session guard, which is synchronous, can read it; a change made in this process
invalidates the cache at once, other worker processes see it within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from casetracker import db
from casetracker.accounts.rules import ALWAYS_2FA_ROLES, roles_requiring_2fa
from casetracker.accounts.tables import Role, RoleSetting
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.policies import roles_seeing_identity_or_evidence
from casetracker.settings import get_settings

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Choices:
    """The administrators' departures from the default, as stored."""
    required: frozenset[str]
    relaxed: frozenset[str]


# (engine, loaded at (monotonic), choices); the engine itself is kept (compared with "is") so
# that a new database, as in tests, never reads another's cache.
_cache: tuple[object, float, Choices] | None = None


def invalidate() -> None:
    global _cache
    _cache = None


async def stored_choices() -> Choices:
    """What administrators chose (database only), from the cache when fresh."""
    global _cache
    engine = db.current_engine()
    now = time.monotonic()
    if _cache is not None and _cache[0] is engine and now - _cache[1] < CACHE_SECONDS:
        return _cache[2]
    rows = await RoleSetting.select(RoleSetting.role, RoleSetting.require_2fa)
    choices = Choices(required=frozenset(r["role"] for r in rows if r["require_2fa"]),
                      relaxed=frozenset(r["role"] for r in rows if not r["require_2fa"]))
    _cache = (engine, now, choices)
    return choices


def default_roles() -> frozenset[str]:
    """Roles that need 2FA unless an administrator relaxes it."""
    return roles_seeing_identity_or_evidence()


def configured_roles() -> frozenset[str]:
    """Roles that need 2FA whatever the database says (administrators + the setting)."""
    return roles_requiring_2fa(get_settings().require_2fa_roles)


async def effective_2fa_roles() -> frozenset[str]:
    choices = await stored_choices()
    return roles_requiring_2fa(get_settings().require_2fa_roles, by_default=default_roles(),
                               relaxed=choices.relaxed, required=choices.required)


async def set_required_roles(actor: Actor, roles: Iterable[str]) -> frozenset[str]:
    """Make exactly ``roles`` (plus the fixed ones) need 2FA; store departures from the default
    and audit the change, naming the roles for which it is relaxed."""
    known = {r.value for r in Role}
    fixed = configured_roles()
    wanted = frozenset(r for r in roles if r in known) | fixed
    defaults = default_roles()
    async with db.write_transaction():
        before = await effective_2fa_roles_uncached()
        for role in sorted(known):
            if role in fixed or role in ALWAYS_2FA_ROLES:
                await RoleSetting.delete().where(RoleSetting.role == role)
                continue
            require = role in wanted
            departs = require != (role in defaults)
            await RoleSetting.delete().where(RoleSetting.role == role)
            if departs:
                await RoleSetting.insert(RoleSetting(role=role, require_2fa=require))
        if before != wanted:
            await audit.record("role_setting.change", actor=actor, object_type="role_setting",
                               details={
                                   "require_2fa_before": sorted(before),
                                   "require_2fa_after": sorted(wanted),
                                   # roles that see identity or evidence and now sign in
                                   # with a password alone
                                   "relaxed": sorted(defaults - wanted),
                               })
    invalidate()
    return wanted


async def effective_2fa_roles_uncached() -> frozenset[str]:
    invalidate()
    return await effective_2fa_roles()
