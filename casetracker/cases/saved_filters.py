"""Saved case lists: a person names a filtered list and finds it in their navigation.

Only the list's filters and sort are kept (re-read through ``listing.parse_filters``, so a
saved list never holds a cursor, a page size or anything the list would not understand).
Each person sees and removes only their own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.cases import listing
from casetracker.cases.tables import SavedFilter
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web.i18n import gettext as _

MAX_PER_PERSON = 30
NAME_LENGTH = 80


def canonical_query(query: str) -> str:
    """The filters of a list's query string, as the list itself would write them."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=False):
        params.setdefault(key, []).append(value)
    filters, _errors = listing.parse_filters(params)
    return urlencode(filters.query_params())


async def for_nav(owner_id: int) -> list[dict[str, Any]]:
    """A person's saved lists, by name, with their URL (one indexed query)."""
    rows = await SavedFilter.select(SavedFilter.id, SavedFilter.name, SavedFilter.query).where(
        SavedFilter.owner == owner_id).order_by(SavedFilter.name).limit(MAX_PER_PERSON)
    return [{"id": r["id"], "name": r["name"],
             "url": "/cases" + ("?" + r["query"] if r["query"] else "")} for r in rows]


async def save(actor: Actor, name: str, query: str) -> SavedFilter:
    """Save (or, under a name the person already uses, replace) a filtered list."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"saved_name": _("Give this list a name.")})
    if len(name) > NAME_LENGTH:
        raise ValidationFailed({"saved_name": _("Use at most %(n)s characters.")
                                % {"n": NAME_LENGTH}})
    query = canonical_query(query)
    async with db.write_transaction():
        existing = await SavedFilter.objects().where(
            (SavedFilter.owner == actor.id) & (SavedFilter.name == name)).first()
        if existing is not None:
            existing.query = query
            await existing.save()
            saved = existing
        else:
            if await SavedFilter.count().where(SavedFilter.owner == actor.id) >= MAX_PER_PERSON:
                raise ValidationFailed({"saved_name": _(
                    "You have %(n)s saved lists already: remove one first.")
                    % {"n": MAX_PER_PERSON}})
            saved = SavedFilter(owner=actor.id, name=name, query=query)
            await saved.save()
    await audit.record("saved_filter.save", actor=actor, object_type="saved_filter",
                       object_id=saved.id, details={"name": name, "query": query})
    return saved


async def remove(actor: Actor, saved_id: int) -> str:
    """Remove one of the actor's saved lists; someone else's is "not found"."""
    async with db.write_transaction():
        row = await SavedFilter.objects().where(
            (SavedFilter.id == saved_id) & (SavedFilter.owner == actor.id)).first()
        if row is None:
            raise NotFound("There is no such saved list.")
        name = row.name
        await row.remove()
    await audit.record("saved_filter.remove", actor=actor, object_type="saved_filter",
                       object_id=saved_id, details={"name": name})
    return name
