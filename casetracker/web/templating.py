"""The app's one Jinja environment (autoescaping, via litestar.plugins.jinja) and its helpers."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from litestar import Response
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from casetracker.settings import PROJECT_ROOT, get_settings
from casetracker.web import i18n
from casetracker.web.flash import pop_flashes

TEMPLATE_DIR = PROJECT_ROOT / "templates"


class HTMLTemplate(Template):
    """A rendered page, always served as text/html.

    Litestar gives a response the handler's media type when the template does not name one,
    and a handler that may return a page *or* a redirect defaults to JSON: a form re-rendered
    with errors then reached browsers as ``application/json`` and showed as source. Every page
    goes through this class instead (imported as ``Template``)."""

    def __init__(self, template_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("media_type", MediaType.HTML)
        super().__init__(template_name, **kwargs)


class CachedPage(HTMLTemplate):
    """A page whose HTML depends only on its template, the language, the settings and ``key``
    (apart from the CSRF token): rendered once, then served from memory with the request's
    token put in. For pages that every visitor sees alike and that must be cheap, such as
    the empty complaint form. The caller decides that the page does not depend on anything
    else: no signed-in user, no flash messages, nothing typed.

    ``context`` may be a callable: it is called only when the page is not cached yet."""

    _PLACEHOLDER = "csrf-token-placeholder-5d1c9e"
    _pages: ClassVar[dict[tuple[Any, ...], str]] = {}
    _MAX_PAGES = 64

    def __init__(self, template_name: str, *, key: tuple[Any, ...],
                 context: dict[str, Any] | Callable[[], dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(template_name, **kwargs)
        self._key = (template_name, i18n.get_language(), get_settings(), *key)
        self._make_context = context

    def to_asgi_response(self, app: Any, request: Any, **kwargs: Any) -> Any:
        body = self._pages.get(self._key)
        if body is None:
            engine = request.app.template_engine
            context = self._make_context() if callable(self._make_context) else \
                self._make_context
            body = engine.get_template(self.template_name).render(**{
                **context, "request": request,
                "csrf_input": ('<input type="hidden" name="_csrf_token" value="'
                               f'{self._PLACEHOLDER}" />'),
            })
            if len(self._pages) >= self._MAX_PAGES:
                self._pages.clear()
            self._pages[self._key] = body
        token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
        page = Response(body.replace(self._PLACEHOLDER, html.escape(token)),
                        media_type=MediaType.HTML, status_code=self.status_code,
                        headers=self.headers, cookies=self.cookies)
        return page.to_asgi_response(None, request, **kwargs)


def local_time(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp shown in the configured local zone."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored timestamps are UTC, not the server's zone
    zone = ZoneInfo(get_settings().timezone)
    return value.astimezone(zone).strftime(fmt)


def format_date(value: date | datetime | str | None, fmt: str = "%Y-%m-%d") -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return local_time(value, fmt)
    assert isinstance(value, date)
    return value.strftime(fmt)


def _to_local(value: date | datetime | str) -> date | datetime:
    """A date stays a date; a timestamp (or its ISO text) moves to the configured zone. A
    timestamp without an offset is UTC, as the database stores them (not the server's zone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(ZoneInfo(get_settings().timezone))
    return value


def long_date(value: date | datetime | str | None) -> str:
    """For people, in their language: "3 de marzo de 2026" / "March 3, 2026"."""
    if value in (None, ""):
        return ""
    assert value is not None
    return i18n.format_day(_to_local(value))


def long_datetime(value: datetime | str | None) -> str:
    """For people, in their language, local time: "3 de marzo de 2026, 14:05"."""
    if value in (None, ""):
        return ""
    assert value is not None
    local = _to_local(value)
    if not isinstance(local, datetime):
        return i18n.format_day(local)
    return i18n.format_moment(local)


def month_year(value: date | str | None) -> str:
    """A date given without its day: "marzo de 2026" / "March 2026"."""
    if value in (None, ""):
        return ""
    assert value is not None
    return i18n.format_month(_to_local(value))


def time_of_day(value: str | None) -> str:
    """"21:40" as people read it in their language: "9:40 PM" / "9:40 p.m."."""
    from datetime import time

    if not value:
        return ""
    try:
        hours, minutes = str(value).split(":")[:2]
        return i18n.format_time_of_day(time(int(hours), int(minutes)))
    except ValueError:
        return str(value)


def language_name(code: str | None) -> str:
    """A language code as staff read it, in their own language: "es" -> "Spanish"."""
    names = {"en": i18n.gettext("English"), "es": i18n.gettext("Spanish")}
    code = (code or "").strip()
    return names.get(code.lower(), code)


def contact_channel(code: str | None) -> str:
    """How someone wants to be reached, in words: "email" -> "by e-mail"."""
    names = {"email": i18n.gettext("by e-mail"), "phone": i18n.gettext("by phone"),
             "mail": i18n.gettext("by post"), "none": i18n.gettext("not to be contacted"),
             "web": i18n.gettext("on the website")}
    code = (code or "").strip()
    return names.get(code.lower(), code)


def nl2br(value: str | None) -> Markup:
    """Escape, then keep line breaks: user text stays text."""
    from markupsafe import escape

    if not value:
        return Markup("")
    return Markup("<br>").join(escape(line) for line in str(value).splitlines())


def filesize(value: int | None) -> str:
    """Bytes for people: "12 KB", "3.4 MB"."""
    from casetracker.evidence.ingest import human_size

    return human_size(int(value or 0))


def basename(value: str | Path | None) -> str:
    return Path(str(value or "")).name


def role_label(role: str | None) -> str:
    """A role in words, in the reader's language ("Oversight staff"), never its code."""
    from casetracker.accounts.rules import role_label as english

    return i18n.translations(i18n.get_language()).gettext(english(role))


def current_user(request: Any) -> Any:
    return request.scope.get("user") if request is not None else None


def configure_environment(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations(i18n.get_language()).gettext(message),
        lambda singular, plural, n: i18n.translations(i18n.get_language()).ngettext(
            singular, plural, n
        ),
        newstyle=True,
    )
    env.filters["localtime"] = local_time
    env.filters["date"] = format_date
    env.filters["nl2br"] = nl2br
    env.filters["filesize"] = filesize
    env.filters["basename"] = basename
    # Public pages and the receipt: dates in words, in the reader's language.
    env.filters["long_date"] = long_date
    env.filters["long_datetime"] = long_datetime
    env.filters["month_year"] = month_year
    env.filters["time_of_day"] = time_of_day
    env.filters["role_label"] = role_label
    env.filters["language_name"] = language_name
    env.filters["contact_channel"] = contact_channel
    env.globals["current_language"] = i18n.get_language
    env.globals["languages"] = i18n.LANGUAGE_NAMES
    env.globals["settings"] = get_settings
    env.globals["flashes"] = pop_flashes
    env.globals["current_user"] = current_user
    from casetracker.auth import permissions, policies

    env.globals["P"] = permissions.Permission
    env.globals["can"] = lambda user, perm: user is not None and perm in policies.permissions_for(
        getattr(user, "role", None)
    )


def template_config(directory: Path = TEMPLATE_DIR) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=directory,
        engine=JinjaTemplateEngine,
        engine_callback=configure_environment,
    )


def render_string(template_name: str, **context: Any) -> str:
    """Render a template outside a request (e-mails, PDFs) with the same environment."""
    return _standalone_engine().get_template(template_name).render(**context)


_engine: JinjaTemplateEngine | None = None


def _standalone_engine() -> JinjaTemplateEngine:
    global _engine
    if _engine is None:
        _engine = JinjaTemplateEngine(directory=TEMPLATE_DIR)
        configure_environment(_engine)
    return _engine
