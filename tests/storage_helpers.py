"""Backend-neutral looks into the store for tests marked ``storage_backends``: what is stored,
what is left in staging (or as an unfinished upload), and ways to damage stored bytes."""

from __future__ import annotations

import os
from typing import Any

from casetracker.storage import get_store


async def stored_keys(settings: Any, area: str = "evidence") -> list[str]:
    """Content-addressed keys of the area (evidence: ``sha256/…``; other areas: every key)."""
    store = get_store(settings, area)
    prefix = "sha256/" if area == "evidence" else ""
    return sorted([key async for key in store.iter_keys(prefix)])


async def staging_leftovers(settings: Any) -> list[str]:
    """Everything still staged, and every multipart upload not finished (S3)."""
    store = get_store(settings)
    staged = await store.staging_leftovers(-3600)  # any age
    uploads = await store.abort_incomplete_uploads(-3600, dry_run=True)
    return sorted(staged + uploads)


async def read_stored(settings: Any, key: str, area: str = "evidence") -> bytes:
    return await get_store(settings, area).get_bytes(key)


async def overwrite_stored(settings: Any, key: str, data: bytes, area: str = "evidence") -> None:
    """Damage stored bytes behind the app's back (the app itself never overwrites)."""
    store = get_store(settings, area)
    if store.backend == "local":
        path = store.path_for(key)  # type: ignore[attr-defined]
        os.chmod(path, 0o640)
        path.write_bytes(data)
    else:
        await store.put_bytes(key, data)


async def delete_stored(settings: Any, key: str, area: str = "evidence") -> None:
    assert await get_store(settings, area).remove(key)


def storage_env(settings: Any) -> dict[str, str]:
    """The environment a `casetracker` command needs to reach the same store."""
    env = {"CASETRACKER_STORAGE_BACKEND": settings.storage_backend,
           "CASETRACKER_EVIDENCE_DIR": str(settings.evidence_dir)}
    if settings.storage_backend == "s3":
        env.update({
            "CASETRACKER_S3_ENDPOINT": settings.s3_endpoint,
            "CASETRACKER_S3_BUCKET": settings.s3_bucket,
            "CASETRACKER_S3_REGION": settings.s3_region,
            "CASETRACKER_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
            "CASETRACKER_S3_SECRET_ACCESS_KEY": settings.s3_secret_access_key,
            "CASETRACKER_S3_PREFIX": settings.s3_prefix,
        })
    return env
