"""What the public adds beside the case: the complainant's identity, and follow-ups."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from casetracker.accounts.tables import User
from casetracker.cases.tables import Case


class ComplainantContact(Table, tablename="complainant_contact"):
    """Identity and contact of a named complainant. Anonymous complaints have no row.

    Visible only to roles the policy module allows (assigned investigator, supervisors);
    every view is audited."""

    case = ForeignKey(references=Case, unique=True, index=True)
    name = Varchar(length=200, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=40, default="")
    address = Text(default="")
    preferred_language = Varchar(length=40, default="")
    preferred_contact = Varchar(length=12, default="")  # email | phone | mail | none
    safety_notes = Text(default="")  # e.g. "do not call"
    interpreter_needed = Boolean(default=False)
    relationship = Varchar(length=200, default="")  # third-party filer's relation to the victim
    victim_name = Varchar(length=200, default="")


class FollowUp(Table, tablename="follow_up"):
    case = ForeignKey(references=Case, index=True)
    received_at = Timestamptz(default=TimestamptzNow())
    message = Text(default="")
    language = Varchar(length=8, default="en")
    # unread until a staff member who may see the case opens the case page
    read_at = Timestamptz(null=True, default=None)
    read_by = ForeignKey(references=User, null=True, default=None)


class PublicRateHit(Table, tablename="public_rate_hit"):
    """One public filing or lookup, counted for per-address rate limits.

    The address is never stored: ``key_hash`` is an HMAC of it with the secret key, and rows
    older than the window are deleted as new hits arrive, so the hash is kept only briefly.
    A table (not process memory) so that several workers share the counters."""

    bucket = Varchar(length=16, index=True)  # "file" | "lookup"
    key_hash = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class ComplaintDraft(Table, tablename="complaint_draft"):
    """A complaint being written on the public form, from its first POST until it is sent,
    discarded or abandoned (docs/intake.md, "Drafts").

    Bound to one browser by the ``ct_draft`` cookie: only an HMAC of the cookie's random token
    is stored (``key_hash``), and what was typed is sealed with a key derived from that token
    (``sealed``, AES-GCM), so the database alone never shows a draft. ``staged_names`` are the
    random names of the files staged for it (held from the evidence sweep until
    ``expires_at``), kept in clear so that the sweep can remove an abandoned draft's files."""

    key_hash = Varchar(length=64, unique=True)
    sealed = Text(default="")
    staged_names = JSON(default=[])
    review_token_hash = Varchar(length=64, default="")  # the one-time "Send" token shown last
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow(), index=True)


class IntakeSubmission(Table, tablename="intake_submission"):
    """One-time submission keys: the complaint form's draft, an API client's
    ``Idempotency-Key``, a follow-up form's token. The first request with a key does the work;
    any later one gets the same answer and changes nothing.

    ``key_hash`` is an HMAC of the kind and key; ``fingerprint`` a SHA-256 of what was sent
    (the same key with another body is refused); ``answer`` the sealed answer (it holds the
    access code, so it opens only with the key itself, and is blanked after
    ``answer_until``)."""

    key_hash = Varchar(length=64, unique=True)
    kind = Varchar(length=12, default="form")  # form | api | follow_up
    fingerprint = Varchar(length=64, default="")
    case = ForeignKey(references=Case, null=True, default=None, index=True)
    answer = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    answer_until = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow(), index=True)


class ConsentChange(Table, tablename="consent_change"):
    """A dated change to who may know the complainant's identity: made by the complainant on
    the status page, or recorded by staff from what the complainant told them. The case holds
    the current values (``Case.consent_share_agency``, ``consent_share_ice``); these rows are
    their history. Shown only to staff who may see the complainant's contact details."""

    case = ForeignKey(references=Case, index=True)
    share_agency = Boolean(default=False)
    share_ice = Boolean(default=False)
    changed_at = Timestamptz(default=TimestamptzNow())
    source = Varchar(length=12, default="complainant")  # complainant | staff
    recorded_by = ForeignKey(references=User, null=True, default=None)


class StaffIntake(Table, tablename="staff_intake"):
    """A complaint staff entered for someone who did not use the web form: received by phone,
    mail, e-mail, in person, or referred by another body. The case's ``received_at`` is when
    it was actually received (the 287(g) clocks start then); this row says how, from whom and
    who took it. Audited as filed by ``entered_by`` on behalf of the complainant."""

    case = ForeignKey(references=Case, unique=True, index=True)
    channel = Varchar(length=12, default="phone")  # phone | mail | email | in_person | referral
    received_at = Timestamptz(default=TimestamptzNow())
    referring_body = Varchar(length=20, default="")  # intake.rules.REFERRING_BODIES
    referring_body_other = Varchar(length=200, default="")
    referring_reference = Varchar(length=100, default="")
    taken_by = ForeignKey(references=User, null=True, default=None)
    entered_by = ForeignKey(references=User, null=True, default=None)
    entered_at = Timestamptz(default=TimestamptzNow())


class ComplainantLetter(Table, tablename="complainant_letter"):
    """A letter telling the complainant what happened (received, investigation opened,
    referred elsewhere, declined, closed), in their language. Drafted from the case, edited by
    staff, then sent by the complainant's preferred contact: e-mailed (durable job), printed and
    mailed, read to them by phone (a task), or only shown on the status page (anonymous, or no
    way to reach them). Every letter sent is on the case and on the status page."""

    case = ForeignKey(references=Case, index=True)
    kind = Varchar(length=12)  # received | opened | referred | declined | closed
    language = Varchar(length=8, default="en")
    channel = Varchar(length=12, default="")  # email | mail | phone | status_page (at sending)
    subject = Varchar(length=300, default="")
    body = Text(default="")
    # draft | sent (e-mail queued) | to_print | mailed | to_call | called | shown
    status = Varchar(length=12, default="draft", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = ForeignKey(references=User, null=True, default=None)
    edited_by = ForeignKey(references=User, null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    sent_by = ForeignKey(references=User, null=True, default=None)
    done_at = Timestamptz(null=True, default=None)  # mailed or called
    done_by = ForeignKey(references=User, null=True, default=None)


class ContactLogEntry(Table, tablename="contact_log"):
    """One contact with the complainant: a letter, a call, an e-mail (date, channel, who)."""

    case = ForeignKey(references=Case, index=True)
    at = Timestamptz(default=TimestamptzNow())
    channel = Varchar(length=12, default="phone")  # email | mail | phone | in_person | status_page
    direction = Varchar(length=4, default="out")  # out | in
    summary = Text(default="")
    letter = ForeignKey(references=ComplainantLetter, null=True, default=None)
    recorded_by = ForeignKey(references=User, null=True, default=None)
