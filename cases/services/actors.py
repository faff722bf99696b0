from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cases.models import ActorType

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who does something: a member of staff, the system (a task), or a resident on a channel."""

    type: str
    user: User | None = None
    channel: str = ""

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(type=ActorType.USER, user=user)

    @classmethod
    def system(cls) -> Actor:
        return cls(type=ActorType.SYSTEM)

    @classmethod
    def resident(cls, channel: str) -> Actor:
        return cls(type=ActorType.RESIDENT, channel=channel)

    @property
    def is_staff(self) -> bool:
        return self.type == ActorType.USER and self.user is not None
