"""users request and response models (README "users")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from shop.common.validation import NOT_BLANK, NOT_BLANK_DOC

# Not blank: "   " is a 422, and the document says so (schemathesis found " " refused).
UserName = Annotated[str, StringConstraints(min_length=1, max_length=100), NOT_BLANK, NOT_BLANK_DOC]


def _normalise_email(value: str) -> str:
    """A syntactically valid address, normalised. No DNS look-up, and `.test` domains are
    fine: this is a demo service, fed by fuzzers (schemathesis generates `...@x.test`)."""
    try:
        return validate_email(
            value, check_deliverability=False, globally_deliverable=False, test_environment=True
        ).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc


Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]


class UserCreate(BaseModel):
    name: UserName
    email: Email


class UserUpdate(BaseModel):
    """A partial update: absent fields stay as they are; `null` is not a value."""

    # SkipJsonSchema: the document must not advertise null, which the validator refuses.
    name: UserName | SkipJsonSchema[None] = None
    email: Email | SkipJsonSchema[None] = None

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
