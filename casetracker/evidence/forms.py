"""Validation of the staff evidence forms (values kept, errors by field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from casetracker.evidence.ingest import ParsedUpload
from casetracker.evidence.services import SOURCES
from casetracker.web.i18n import gettext as _

DESCRIPTION_LIMIT = 4000


@dataclass
class UploadForm:
    description: str = ""
    source: str = ""
    obtained_on: str = ""
    allegations: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    obtained_date: date | None = None
    allegation_ids: list[int] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def validate_upload(parsed: ParsedUpload, allowed_allegation_ids: set[int],
                    today: date) -> UploadForm:
    form = UploadForm(
        description=parsed.get("description").strip(),
        source=parsed.get("source").strip(),
        obtained_on=parsed.get("obtained_on").strip(),
        allegations=parsed.getall("allegations"),
    )
    form.errors.update(parsed.errors)
    if "files" not in form.errors and not parsed.files_for("files"):
        if not parsed.errors:
            form.errors["files"] = _("Choose at least one file to upload.")
    if len(form.description) > DESCRIPTION_LIMIT:
        form.errors["description"] = _("Keep the description under {n} characters.").format(
            n=DESCRIPTION_LIMIT)
    elif "\x00" in form.description:
        form.errors["description"] = _("The description contains characters that are not "
                                       "allowed.")
    if not form.description:
        form.errors["description"] = _("Describe what the evidence is and shows.")
    if form.source not in SOURCES:
        form.errors["source"] = _("Choose where the evidence came from.")
    if form.obtained_on:
        try:
            form.obtained_date = date.fromisoformat(form.obtained_on)
        except ValueError:
            form.errors["obtained_on"] = _("Enter the date as YYYY-MM-DD, e.g. 2026-03-14.")
        else:
            if form.obtained_date > today:
                form.errors["obtained_on"] = _("The date obtained cannot be in the future.")
    for raw in form.allegations:
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value not in allowed_allegation_ids:
            form.errors["allegations"] = _("Choose allegations of this case.")
            break
        form.allegation_ids.append(value)
    return form
