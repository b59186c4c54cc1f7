"""Settings read once from ``CASETRACKER_*`` environment variables.

Every setting is documented in README.md; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CASETRACKER_{name}", default)


class SettingError(ValueError):
    """A setting that cannot be read; the message names it and what it should be."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"CASETRACKER_{name}")
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"CASETRACKER_{name} must be a whole number (it is {raw!r}).") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"CASETRACKER_{name}")
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(f"CASETRACKER_{name}")
    if raw in (None, ""):
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    secret_key: str
    storage_backend: str = "local"  # "local" or "s3": evidence and issued documents
    evidence_dir: Path = field(default=Path("var/evidence"))
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    s3_prefix: str = ""
    s3_addressing_style: str = "auto"
    s3_part_mb: int = 8
    redis_namespace: str = "casetracker"
    outbox_dir: Path = field(default=Path("var/outbox"))
    session_dir: Path = field(default=Path("var/sessions"))
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "America/New_York"
    organisation_name: str = "287(g) Oversight Office"
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    require_2fa_roles: tuple[str, ...] = ("administrator",)
    password_min_length: int = 12
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "casetracker@localhost"
    upload_max_file_mb: int = 100
    upload_max_files: int = 10
    upload_max_complaint_mb: int = 1024
    evidence_max_file_gb: int = 20
    public_rate_limit_per_hour: int = 20
    complaint_draft_hours: int = 8
    pdf_workers: int = 2
    pdf_timeout_seconds: int = 120
    signing_cert: str = ""
    signing_key: str = ""
    signing_key_password: str = ""
    holidays: tuple[str, ...] = ()
    ice_notice_business_hours: int = 48
    results_due_days: int = 30
    resolution_due_days: int = 90
    triage_due_business_days: int = 5
    # the daily digest of deadlines: what falls within this many business days, sent once a
    # day after this local hour
    digest_business_days: int = 3
    digest_hour: int = 7
    late_filing_days: int = 180
    training_cycle_days: int = 730
    db_pool_min: int = 1
    db_pool_max: int = 10
    redis_url: str = field(default="", repr=False)  # may hold a password
    queue_name: str = "casetracker"
    metrics_token: str = ""
    jobs_in_process: bool = True
    job_concurrency: int = 2
    job_lease_seconds: int = 60
    audit_checkpoint_dir: Path = field(default=Path("var/audit-checkpoints"))
    audit_checkpoint_sinks: tuple[str, ...] = ("file",)
    audit_checkpoint_email: str = ""
    audit_checkpoint_minutes: int = 60

    @property
    def evidence_backend(self) -> str:
        """The storage backend (the older name of ``storage_backend``)."""
        return self.storage_backend

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        # sqlite:///relative/path or sqlite:////absolute/path
        path = self.database_url.split("sqlite:///", 1)[1]
        return Path(path)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def replace(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _load_or_create_secret(var_dir: Path) -> str:
    """A secret key generated into var/ on first start, so a newcomer needs no set-up."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with 0600 so the key is never world-readable, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def default_base_url(host: str, port: int) -> str:
    """The address people reach a server started on ``host``:``port`` when
    ``CASETRACKER_BASE_URL`` is not set (a server listening on every interface is reached on
    this machine through the loopback address)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising, not binding
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def load_settings() -> Settings:
    var_dir = Path(_env("VAR_DIR", str(PROJECT_ROOT / "var"))).resolve()
    database_url = _env("DATABASE_URL", f"sqlite:///{var_dir / 'casetracker.sqlite3'}")
    secret_key = os.environ.get("CASETRACKER_SECRET_KEY") or _load_or_create_secret(var_dir)
    host = _env("HOST", "127.0.0.1")
    port = _env_int("PORT", 8000)
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        secret_key=secret_key,
        # CASETRACKER_EVIDENCE_BACKEND is the older name, still honoured.
        storage_backend=_env("STORAGE_BACKEND", _env("EVIDENCE_BACKEND", "local")).strip().lower(),
        evidence_dir=Path(_env("EVIDENCE_DIR", str(var_dir / "evidence"))),
        s3_endpoint=_env("S3_ENDPOINT", "").strip(),
        s3_bucket=_env("S3_BUCKET", "").strip(),
        s3_region=_env("S3_REGION", "us-east-1").strip(),
        s3_access_key_id=_env("S3_ACCESS_KEY_ID", ""),
        s3_secret_access_key=_env("S3_SECRET_ACCESS_KEY", ""),
        s3_prefix=_env("S3_PREFIX", "").strip().strip("/"),
        s3_addressing_style=_env("S3_ADDRESSING_STYLE", "auto").strip().lower(),
        s3_part_mb=_env_int("S3_PART_MB", 8),
        redis_namespace=_env("REDIS_NAMESPACE", "casetracker").strip(),
        outbox_dir=Path(_env("OUTBOX_DIR", str(var_dir / "outbox"))),
        session_dir=Path(_env("SESSION_DIR", str(var_dir / "sessions"))),
        debug=_env_bool("DEBUG", False),
        host=host,
        port=port,
        base_url=(_env("BASE_URL", "") or default_base_url(host, port)).rstrip("/"),
        timezone=_env("TIMEZONE", "America/New_York"),
        organisation_name=_env("ORGANISATION_NAME", "287(g) Oversight Office"),
        session_idle_minutes=_env_int("SESSION_IDLE_MINUTES", 30),
        session_max_hours=_env_int("SESSION_MAX_HOURS", 12),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_lockout_minutes=_env_int("LOGIN_LOCKOUT_MINUTES", 15),
        require_2fa_roles=_env_list("REQUIRE_2FA_ROLES", ("administrator",)),
        password_min_length=_env_int("PASSWORD_MIN_LENGTH", 12),
        smtp_host=_env("SMTP_HOST", ""),
        smtp_port=_env_int("SMTP_PORT", 587),
        smtp_user=_env("SMTP_USER", ""),
        smtp_password=_env("SMTP_PASSWORD", ""),
        smtp_starttls=_env_bool("SMTP_STARTTLS", True),
        mail_from=_env("MAIL_FROM", "casetracker@localhost"),
        upload_max_file_mb=_env_int("UPLOAD_MAX_FILE_MB", 100),
        upload_max_files=_env_int("UPLOAD_MAX_FILES", 10),
        upload_max_complaint_mb=_env_int("UPLOAD_MAX_COMPLAINT_MB", 1024),
        evidence_max_file_gb=_env_int("EVIDENCE_MAX_FILE_GB", 20),
        public_rate_limit_per_hour=_env_int("PUBLIC_RATE_LIMIT_PER_HOUR", 20),
        complaint_draft_hours=_env_int("COMPLAINT_DRAFT_HOURS", 8),
        pdf_workers=_env_int("PDF_WORKERS", 2),
        pdf_timeout_seconds=_env_int("PDF_TIMEOUT_SECONDS", 120),
        signing_cert=_env("SIGNING_CERT", ""),
        signing_key=_env("SIGNING_KEY", ""),
        signing_key_password=_env("SIGNING_KEY_PASSWORD", ""),
        holidays=_env_list("HOLIDAYS", ()),
        ice_notice_business_hours=_env_int("ICE_NOTICE_BUSINESS_HOURS", 48),
        results_due_days=_env_int("RESULTS_DUE_DAYS", 30),
        resolution_due_days=_env_int("RESOLUTION_DUE_DAYS", 90),
        triage_due_business_days=_env_int("TRIAGE_DUE_BUSINESS_DAYS", 5),
        digest_business_days=_env_int("DIGEST_BUSINESS_DAYS", 3),
        digest_hour=_env_int("DIGEST_HOUR", 7),
        late_filing_days=_env_int("LATE_FILING_DAYS", 180),
        training_cycle_days=_env_int("TRAINING_CYCLE_DAYS", 730),
        db_pool_min=_env_int("DB_POOL_MIN", 1),
        db_pool_max=_env_int("DB_POOL_MAX", 10),
        redis_url=_env("REDIS_URL", "").strip(),
        queue_name=_env("QUEUE_NAME", "casetracker"),
        metrics_token=_env("METRICS_TOKEN", ""),
        jobs_in_process=_env_bool("JOBS_IN_PROCESS", True),
        job_concurrency=_env_int("JOB_CONCURRENCY", 2),
        job_lease_seconds=_env_int("JOB_LEASE_SECONDS", 60),
        audit_checkpoint_dir=Path(_env("AUDIT_CHECKPOINT_DIR",
                                       str(var_dir / "audit-checkpoints"))),
        audit_checkpoint_sinks=_env_list("AUDIT_CHECKPOINT_SINKS", ("file",)),
        audit_checkpoint_email=_env("AUDIT_CHECKPOINT_EMAIL", ""),
        audit_checkpoint_minutes=_env_int("AUDIT_CHECKPOINT_MINUTES", 60),
    )


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings; ``configure`` replaces them (tests, CLI)."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def local_today(settings: Settings | None = None) -> date:
    """Today's date where the office is (``timezone``), not the server's or UTC's: deadlines,
    periods and flags are local days (at 19:00 in New York it is already tomorrow in UTC)."""
    zone = ZoneInfo((settings or get_settings()).timezone)
    return datetime.now(zone).date()


def configure(settings: Settings) -> Settings:
    global _current
    _current = settings
    return settings
