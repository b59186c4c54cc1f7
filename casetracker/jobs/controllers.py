"""Background jobs for administrators: the queue's state, failed jobs, retry."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from casetracker.auth.actor import Actor
from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.errors import Conflict, NotFound
from casetracker.jobs import services
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template


def _actor(request: Request[Any, Any, Any]) -> Actor:
    actor = actor_from_connection(request)
    assert actor is not None  # the permission guard let the request through
    return actor


class JobsController(Controller):
    path = "/admin/jobs"
    guards = [requires(Permission.JOBS_MANAGE)]  # noqa: RUF012 - Litestar reads this

    @get("/", name="admin.jobs")
    async def index(self, request: Request[Any, Any, Any],
                    before: FromQuery[int | None] = None) -> Template:
        service = services.JobService(_actor(request))
        failed = await service.failed(before_id=before)
        return Template("admin/jobs.html.j2", context={
            "state": await services.queue_state(), "failed": failed,
            "next_before": failed[-1]["id"] if len(failed) == services.PAGE_SIZE else None,
        })

    @post("/{job_id:int}/retry", name="admin.jobs.retry")
    async def retry(self, request: Request[Any, Any, Any], job_id: FromPath[int]) -> Redirect:
        try:
            job = await services.JobService(_actor(request)).retry(job_id)
        except (Conflict, NotFound) as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, _("“%(job)s” will be tried again now.", job=job["label"]))
        return Redirect(path="/admin/jobs", status_code=303)
