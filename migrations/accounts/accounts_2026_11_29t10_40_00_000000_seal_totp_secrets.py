"""Encrypt the TOTP secrets stored in clear before secrets were sealed at rest.

Each clear value becomes a ``v1:`` token (AES-256-GCM, key derived from the app's secret key,
the user's id as associated data; see casetracker/accounts/totp_crypto.py), so people who set
up two-factor sign-in keep using the same authenticator entry. Values already sealed are left
alone, so running it again changes nothing. Plain SQL through the migration's transaction, the
same on SQLite and PostgreSQL; secrets are never printed.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-29T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Encrypt TOTP secrets stored in clear"


async def seal_clear_totp_secrets() -> int:
    """Seal every clear secret; returns how many were sealed."""
    from casetracker.accounts.totp_crypto import derive_key, is_sealed, seal
    from casetracker.settings import get_settings

    engine = engine_finder()
    rows = await engine.run_querystring(QueryString(
        "SELECT id, totp_secret FROM ct_user WHERE totp_secret IS NOT NULL ORDER BY id"))
    key = None
    sealed = 0
    for row in rows:
        stored = row["totp_secret"]
        if is_sealed(stored):
            continue
        if key is None:
            key = derive_key(get_settings().secret_key)
        # An empty value never verified a code: store NULL rather than a sealed empty string.
        new_value = seal(stored, user_id=row["id"], key=key) if stored.strip() else None
        await engine.run_querystring(QueryString(
            "UPDATE ct_user SET totp_secret = {} WHERE id = {}", new_value, row["id"]))
        sealed += 1
    return sealed


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def run_raw():
        await seal_clear_totp_secrets()

    manager.add_raw(run_raw)
    return manager
