"""A third-party-style Flask service for the conventions tests: a Swagger 2.0 document at a
path of its own (`/apidocs/swagger.json`), no health route, and its own error body
(`{"message": ...}`). It knows nothing of the harness.

`/apidocs/broken.json` is the same document with a mistake in one operation (`POST /pets`
refers to a parameter the document does not define), for the spec-error tests.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

app = Flask("legacy_pets")
_ids = itertools.count(2)
_pets: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "rex"}}

_ERROR = {"description": "An error", "schema": {"$ref": "#/definitions/Error"}}
SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "legacy pets", "version": "1.0"},
    "basePath": "/",
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 100,
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The pets",
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                    },
                    "400": _ERROR,
                },
            },
            "post": {
                "operationId": "addPet",
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/NewPet"},
                    }
                ],
                "responses": {
                    "201": {"description": "Added", "schema": {"$ref": "#/definitions/Pet"}},
                    "400": _ERROR,
                },
            },
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "getPet",
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "type": "integer"}
                ],
                "responses": {
                    "200": {"description": "A pet", "schema": {"$ref": "#/definitions/Pet"}},
                    "400": _ERROR,
                    "404": _ERROR,
                },
            }
        },
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "NewPet": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 50}},
        },
        "Error": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
    },
}
BROKEN = copy.deepcopy(SWAGGER)
BROKEN["paths"]["/pets"]["post"]["parameters"] = [{"$ref": "#/parameters/NewPetBody"}]


def _error(status: int, message: str) -> tuple[Any, int]:
    return jsonify({"message": message}), status


@app.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    response = exc.get_response()
    response.set_data(jsonify({"message": exc.description or exc.name}).get_data())
    response.content_type = "application/json"
    return response


@app.get("/apidocs/swagger.json")
def swagger() -> Any:
    return jsonify(SWAGGER)


@app.get("/apidocs/broken.json")
def broken() -> Any:
    return jsonify(BROKEN)


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


@app.get("/pets")
def list_pets() -> Any:
    raw = request.args.get("limit")
    limit = 100 if raw is None else _integer(raw)
    if limit is None or not 1 <= limit <= 100:
        return _error(400, "limit must be an integer from 1 to 100")
    return jsonify(sorted(_pets.values(), key=lambda pet: pet["id"])[:limit])


@app.post("/pets")
def add_pet() -> Any:
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not 1 <= len(name) <= 50:
        return _error(400, "expected a JSON object with a name of 1 to 50 characters")
    pet = {"id": next(_ids), "name": name}
    _pets[pet["id"]] = pet
    return jsonify(pet), 201


@app.get("/pets/<pet_id>")
def get_pet(pet_id: str) -> Any:
    number = _integer(pet_id)
    if number is None:
        return _error(400, "petId must be an integer")
    if number not in _pets:
        return _error(404, "no such pet")
    return jsonify(_pets[number])
