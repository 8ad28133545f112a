"""The users service's Pact provider states (SHOP_TEST_MODE only, see shop.common.provider_states).

Setups upsert, so a state can be set up again without a teardown in between.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Engine, delete

from shop.common.db import delete_all_rows, session_scope
from shop.common.provider_states import ProviderStates
from shop.common.validation import JsonId
from shop.users.models import Base, UserRow


class UserExists(BaseModel):
    user_id: JsonId
    name: str = "Ada Lovelace"
    email: str = "ada@example.test"


class UserAbsent(BaseModel):
    user_id: JsonId | None = None
    email: str | None = None


def provider_states(engine: Engine) -> ProviderStates:
    states = ProviderStates(teardown=lambda: delete_all_rows(engine, Base.metadata))

    @states.state("a user exists", params=UserExists)
    def user_exists(params: UserExists) -> None:
        with session_scope(engine, write=True) as session:
            session.execute(delete(UserRow).where(UserRow.email_key == params.email.lower()))
            session.merge(
                UserRow(
                    id=params.user_id,
                    name=params.name,
                    email=params.email,
                    email_key=params.email.lower(),
                )
            )

    @states.state("no such user", params=UserAbsent)
    def no_such_user(params: UserAbsent) -> None:
        with session_scope(engine, write=True) as session:
            if params.user_id is not None:
                session.execute(delete(UserRow).where(UserRow.id == params.user_id))
            if params.email is not None:
                session.execute(delete(UserRow).where(UserRow.email_key == params.email.lower()))

    return states
