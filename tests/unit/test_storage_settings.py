"""Storage and session settings read from the environment, and what a wrong one does."""

from __future__ import annotations

import pytest

from casetracker.settings import load_settings
from casetracker.storage import get_store


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STORAGE_BACKEND", "EVIDENCE_BACKEND", "REDIS_URL", "S3_BUCKET"):
        monkeypatch.delenv(f"CASETRACKER_{name}", raising=False)
    settings = load_settings()
    assert settings.storage_backend == "local" and settings.redis_url == ""
    assert get_store(settings).backend == "local"
    assert get_store(settings, "documents").root == settings.var_dir / "documents"  # type: ignore[attr-defined]


def test_the_older_evidence_backend_name_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASETRACKER_STORAGE_BACKEND", raising=False)
    monkeypatch.setenv("CASETRACKER_EVIDENCE_BACKEND", "s3")
    monkeypatch.setenv("CASETRACKER_S3_BUCKET", "evidence-bucket")
    monkeypatch.setenv("CASETRACKER_S3_PREFIX", "/office-a/")
    settings = load_settings()
    assert settings.storage_backend == "s3" and settings.evidence_backend == "s3"
    store = get_store(settings, "documents")
    assert store.backend == "s3"
    assert store.prefix == "office-a/documents/"  # type: ignore[attr-defined]
    # STORAGE_BACKEND wins over the older name
    monkeypatch.setenv("CASETRACKER_STORAGE_BACKEND", "local")
    assert load_settings().storage_backend == "local"


def test_secrets_stay_out_of_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASETRACKER_S3_SECRET_ACCESS_KEY", "s3-secret-value")
    monkeypatch.setenv("CASETRACKER_REDIS_URL", "redis://:redis-password@127.0.0.1:6379/0")
    text = repr(load_settings())
    assert "s3-secret-value" not in text and "redis-password" not in text


def test_a_wrong_backend_stops_the_app_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from casetracker.app import create_app
    from casetracker.settings import configure, get_settings

    before = get_settings()
    base = load_settings()
    try:
        with pytest.raises(ValueError, match="Unknown storage backend"):
            create_app(base.replace(storage_backend="ftp"))
        with pytest.raises(ValueError, match="S3_BUCKET"):
            create_app(base.replace(storage_backend="s3", s3_bucket=""))
    finally:
        configure(before)
