"""The acting user as services see it: plain values, never the request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str  # e-mail for staff, "public" or "system" otherwise
    role: str | None = None
    name: str = ""
    ip_address: str | None = None

    @classmethod
    def public(cls, ip_address: str | None = None) -> Actor:
        return cls(id=None, label="public", role=None, name="Member of the public",
                   ip_address=ip_address)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(id=None, label=label, role=None, name="System")

    @classmethod
    def from_user(cls, user: object, ip_address: str | None = None) -> Actor:
        return cls(
            id=user.id,  # type: ignore[attr-defined]
            label=user.email,  # type: ignore[attr-defined]
            role=user.role,  # type: ignore[attr-defined]
            name=user.name,  # type: ignore[attr-defined]
            ip_address=ip_address,
        )

    @property
    def is_staff(self) -> bool:
        return self.id is not None and self.role is not None
