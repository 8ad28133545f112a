"""users request and response models (README "users")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints, model_validator

UserName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class UserCreate(BaseModel):
    name: UserName
    email: EmailStr


class UserUpdate(BaseModel):
    """A partial update: absent fields stay as they are; `null` is not a value."""

    name: UserName | None = None
    email: EmailStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(
                str(key) for key in ("name", "email") if key in data and data[key] is None
            )
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null")
        return data


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    created_at: datetime


class UserPage(BaseModel):
    items: list[User]
    total: int
