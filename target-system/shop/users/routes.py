"""users endpoints: create, list, get, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.common.app import error_responses
from shop.common.db import session_scope
from shop.common.errors import Conflict, NotFound
from shop.common.validation import DbId, NonNegativeDbInt
from shop.users.models import UserRow
from shop.users.schemas import User, UserCreate, UserPage, UserUpdate

NOT_FOUND = error_responses({404: "No user with this id"})
DUPLICATE = error_responses({409: "The email is already taken"})

# OpenAPI links: what a client (and schemathesis' stateful phase) can do with a new user.
_USER_ID = {"user_id": "$response.body#/id"}
USER_LINKS = {
    "GetUser": {"operationId": "get_user", "parameters": _USER_ID},
    "UpdateUser": {"operationId": "update_user", "parameters": _USER_ID},
    "DeleteUser": {"operationId": "delete_user", "parameters": _USER_ID},
}


def build_router(engine: Engine) -> APIRouter:
    router = APIRouter(tags=["users"])

    @router.post(
        "/users",
        status_code=201,
        responses={201: {"description": "Created", "links": USER_LINKS}, **DUPLICATE},
        operation_id="create_user",
    )
    def create_user(body: UserCreate) -> User:
        row = UserRow(name=body.name, email=body.email, email_key=body.email.lower())
        _commit_unique_email(engine, row)
        return User.model_validate(row)

    @router.get("/users", operation_id="list_users")
    def list_users(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[NonNegativeDbInt, Query()] = 0,
    ) -> UserPage:
        with session_scope(engine) as session:
            total = session.scalar(select(func.count()).select_from(UserRow)) or 0
            rows = session.scalars(select(UserRow).order_by(UserRow.id).limit(limit).offset(offset))
            return UserPage(items=[User.model_validate(r) for r in rows], total=total)

    @router.get("/users/{user_id}", responses=NOT_FOUND, operation_id="get_user")
    def get_user(user_id: DbId) -> User:
        with session_scope(engine) as session:
            return User.model_validate(_get_user(session, user_id))

    @router.patch(
        "/users/{user_id}", responses={**NOT_FOUND, **DUPLICATE}, operation_id="update_user"
    )
    def update_user(user_id: DbId, body: UserUpdate) -> User:
        try:
            with session_scope(engine, write=True) as session:
                row = _get_user(session, user_id)
                if body.name is not None:
                    row.name = body.name
                if body.email is not None:
                    row.email, row.email_key = body.email, body.email.lower()
                session.flush()
                return User.model_validate(row)
        except IntegrityError as exc:
            raise Conflict("a user with this email exists", error="duplicate_email") from exc

    @router.delete(
        "/users/{user_id}", status_code=204, responses=NOT_FOUND, operation_id="delete_user"
    )
    def delete_user(user_id: DbId) -> Response:
        with session_scope(engine, write=True) as session:
            session.delete(_get_user(session, user_id))
        return Response(status_code=204)

    return router


def _get_user(session: Session, user_id: int) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


def _commit_unique_email(engine: Engine, row: UserRow) -> None:
    """Insert `row`; the unique email key turns a duplicate (even a racing one) into a 409."""
    try:
        with session_scope(engine, write=True) as session:
            session.add(row)
    except IntegrityError as exc:
        raise Conflict("a user with this email exists", error="duplicate_email") from exc
