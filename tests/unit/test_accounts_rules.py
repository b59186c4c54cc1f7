from __future__ import annotations

import pyotp
import pytest

from casetracker.accounts import mfa
from casetracker.accounts.rules import admin_change_problem, roles_requiring_2fa
from casetracker.accounts.tokens import bearer_token


def test_administrators_always_need_2fa() -> None:
    assert roles_requiring_2fa(()) == {"administrator"}
    assert roles_requiring_2fa(["intake"]) == {"administrator", "intake"}


@pytest.mark.parametrize("kwargs, problem", [
    (dict(actor_id=1, target_id=1, target_role="intake", target_active=True, change="disable"),
     "own account"),
    (dict(actor_id=1, target_id=2, target_role="administrator", target_active=True,
          change="disable", other_active_admins=0), "last active administrator"),
    (dict(actor_id=1, target_id=2, target_role="administrator", target_active=True,
          change="role", new_role="intake", other_active_admins=0), "last active administrator"),
    (dict(actor_id=1, target_id=2, target_role="administrator", target_active=True,
          change="disable", other_active_admins=1), None),
    (dict(actor_id=1, target_id=1, target_role="administrator", target_active=True,
          change="role", new_role="administrator", other_active_admins=0), None),
    (dict(actor_id=1, target_id=2, target_role="intake", target_active=True, change="role",
          new_role="supervisor"), None),
])
def test_admin_change_problem(kwargs: dict, problem: str | None) -> None:
    found = admin_change_problem(**kwargs)
    assert (found is None) if problem is None else (problem in found)


def test_totp_accepts_the_current_code_only() -> None:
    secret = mfa.new_secret()
    code = pyotp.TOTP(secret).now()
    assert mfa.verify_totp(secret, code)
    assert mfa.verify_totp(secret, code[:3] + " " + code[3:])
    assert not mfa.verify_totp(secret, "12345")
    assert not mfa.verify_totp(None, code)


def test_recovery_codes_are_unique_hashed_and_forgiving_about_format() -> None:
    codes = mfa.new_recovery_codes()
    assert len(set(codes)) == 10
    stored = [mfa.hash_recovery_code(c) for c in codes]
    assert all(c not in "".join(stored) for c in codes)
    assert mfa.match_recovery_code(stored, codes[3].upper().replace("-", " ")) == stored[3]
    assert mfa.match_recovery_code(stored, "aaaaa-aaaaa") is None
    assert mfa.looks_like_recovery_code(codes[0]) and not mfa.looks_like_recovery_code("123456")


def test_recovery_codes_are_never_all_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    # A code of digits only would be read as an authenticator code and could never be used.
    draws = iter("1234567890" + "abcde23456" + "98765fghjk")
    monkeypatch.setattr(mfa.secrets, "choice", lambda alphabet: next(draws))
    assert mfa.new_recovery_codes(2) == ["abcde-23456", "98765-fghjk"]


def test_qr_code_is_an_svg_data_uri() -> None:
    uri = mfa.qr_data_uri(mfa.provisioning_uri(mfa.new_secret(), "a@example.org"))
    assert uri.startswith("data:image/svg+xml")


@pytest.mark.parametrize("header, ok", [
    ("Bearer ct_abc", True), ("bearer ct_abc", True), ("Bearer abc", False),
    ("Basic ct_abc", False), ("", False), (None, False), ("Bearer " + "ct_" + "x" * 300, False),
])
def test_bearer_token_parsing(header: str | None, ok: bool) -> None:
    assert (bearer_token(header) is not None) is ok


def test_default_roles_need_2fa_unless_relaxed_and_fixed_ones_always() -> None:
    defaults = {"supervisor", "investigator"}
    assert roles_requiring_2fa((), by_default=defaults) == {"administrator", *defaults}
    assert roles_requiring_2fa((), by_default=defaults, relaxed={"investigator"}) == {
        "administrator", "supervisor"}
    # Neither the server's setting nor the administrator role can be relaxed.
    assert roles_requiring_2fa(["intake"], by_default=defaults,
                               relaxed={"intake", "administrator", "supervisor"}) == {
        "administrator", "intake", "investigator"}
    assert roles_requiring_2fa((), required={"oversight"}) == {"administrator", "oversight"}
