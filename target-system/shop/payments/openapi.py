"""The hand-written OpenAPI 3.1 document of the payments service, served at /openapi.json.

Written by hand because Flask has no schema generator; the limits come from `schemas` so the
document and the validation cannot drift apart, and schemathesis holds the service to it.
"""

from __future__ import annotations

from typing import Any

from shop.payments.schemas import (
    DEFAULT_LIST_LIMIT,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_AMOUNT_CENTS,
    MAX_CARD_TOKEN,
    MAX_ID,
    MAX_LIST_LIMIT,
)

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_KEY_SCHEMA = {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
_PAYMENT_ID_PARAM = {"name": "payment_id", "in": "path", "required": True, "schema": _ID}
_PAYMENT_LINKS = {
    "GetPayment": {
        "operationId": "get_payment",
        "parameters": {"payment_id": "$response.body#/id"},
    },
    "RefundPayment": {
        "operationId": "refund_payment",
        "parameters": {"payment_id": "$response.body#/id"},
    },
}

_SCHEMAS: dict[str, Any] = {
    "ChargeRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["order_id", "amount_cents", "currency", "card_token"],
        "properties": {
            "order_id": _ID,
            "amount_cents": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT_CENTS},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
            "card_token": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_CARD_TOKEN,
                "description": "`tok_declined` is declined (402); any other token is captured.",
            },
        },
    },
    "Payment": {
        "type": "object",
        "required": [
            "id",
            "order_id",
            "amount_cents",
            "currency",
            "status",
            "idempotency_key",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "id": _ID,
            "order_id": _ID,
            "amount_cents": {"type": "integer", "minimum": 1},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
            "status": {"type": "string", "enum": ["captured", "declined", "refunded"]},
            "idempotency_key": {"type": "string"},
            "created_at": _TIMESTAMP,
            "updated_at": _TIMESTAMP,
        },
    },
    "PaymentList": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref("Payment")},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    "VoidRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["idempotency_key"],
        "properties": {"idempotency_key": _KEY_SCHEMA},
    },
    "VoidAnswer": {
        "type": "object",
        "required": ["idempotency_key", "voided", "payment"],
        "properties": {
            "idempotency_key": {"type": "string"},
            "voided": {
                "type": "boolean",
                "description": "true: no charge exists under the key, and none ever will.",
            },
            "payment": {"oneOf": [_ref("Payment"), {"type": "null"}]},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string"},
            "detail": {"type": ["string", "array", "null"]},
            "request_id": {"type": ["string", "null"]},
        },
    },
    "CardDeclined": {
        "type": "object",
        "required": ["error", "detail", "payment"],
        "properties": {
            "error": {"type": "string", "const": "card_declined"},
            "detail": {"type": "string"},
            "payment": _ref("Payment"),
            "request_id": {"type": ["string", "null"]},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "service"],
        "properties": {"status": {"const": "ok"}, "service": {"type": "string"}},
    },
    "Ready": {
        "type": "object",
        "required": ["status", "service", "database", "dependencies"],
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not_ready"]},
            "service": {"type": "string"},
            "database": {"type": "string", "enum": ["ok", "error"]},
            "dependencies": {"type": "object"},
        },
    },
}

_PATHS: dict[str, Any] = {
    "/health": {
        "get": {
            "operationId": "health",
            "summary": "Liveness",
            "responses": {"200": _json(_ref("Health"), "The process is alive.")},
        }
    },
    "/ready": {
        "get": {
            "operationId": "ready",
            "summary": "Readiness: the database answers",
            "responses": {
                "200": _json(_ref("Ready"), "Ready."),
                "503": _json(_ref("Ready"), "The database does not answer."),
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics",
            "responses": {
                "200": {
                    "description": "Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/payments": {
        "post": {
            "operationId": "create_payment",
            "summary": "Charge a card, once per Idempotency-Key",
            "description": (
                "The same key with the same body answers the same status code and body again "
                "(header `Idempotent-Replayed: true`) without charging again; the same key "
                "with another body is a 409."
            ),
            "parameters": [
                {"name": "Idempotency-Key", "in": "header", "required": True, "schema": _KEY_SCHEMA}
            ],
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": _ref("ChargeRequest")}},
            },
            "responses": {
                "201": {**_json(_ref("Payment"), "Captured."), "links": _PAYMENT_LINKS},
                "400": _error("The body is not valid JSON."),
                "402": _json(_ref("CardDeclined"), "The card was declined (recorded)."),
                "409": _error(
                    "The key was used before with another body, or was voided "
                    "(`idempotency_key_voided`)."
                ),
                "422": _error("Invalid body or Idempotency-Key."),
            },
        },
        "get": {
            "operationId": "list_payments",
            "summary": "Payments, optionally by order or by idempotency key",
            "parameters": [
                {"name": "order_id", "in": "query", "required": False, "schema": _ID},
                {
                    "name": "idempotency_key",
                    "in": "query",
                    "required": False,
                    "schema": _KEY_SCHEMA,
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIST_LIMIT,
                        "default": DEFAULT_LIST_LIMIT,
                    },
                },
                {
                    "name": "offset",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "default": 0},
                },
            ],
            "responses": {
                "200": _json(_ref("PaymentList"), "Matching payments, oldest first."),
                "422": _error("Invalid query parameter."),
            },
        },
    },
    "/payment-voids": {
        "post": {
            "operationId": "void_key",
            "summary": "Settle a charge key: its charge, or the key voided",
            "description": (
                "For a caller that lost a charge's answer. Answers the charge made under the "
                "key; when there is none, voids the key, so that any later charge request "
                "under it (one still on its way) is refused with 409 `idempotency_key_voided`. "
                "Idempotent."
            ),
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": _ref("VoidRequest")}},
            },
            "responses": {
                "200": _json(_ref("VoidAnswer"), "The charge under the key, or the key void."),
                "400": _error("The body is not valid JSON."),
                "422": _error("Invalid body."),
            },
        }
    },
    "/payments/{payment_id}": {
        "get": {
            "operationId": "get_payment",
            "summary": "One payment",
            "parameters": [_PAYMENT_ID_PARAM],
            "responses": {
                "200": _json(_ref("Payment"), "The payment."),
                "404": _error("No such payment."),
            },
        }
    },
    "/payments/{payment_id}/refund": {
        "post": {
            "operationId": "refund_payment",
            "summary": "Refund a captured payment (idempotent)",
            "parameters": [
                _PAYMENT_ID_PARAM,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": _KEY_SCHEMA,
                    "description": "Optional: a refund is idempotent by nature.",
                },
            ],
            "responses": {
                "200": _json(_ref("Payment"), "Refunded (now or before)."),
                "404": _error("No such payment."),
                "409": _error("A declined payment cannot be refunded."),
                "422": _error("Invalid Idempotency-Key."),
            },
        }
    },
}

OPENAPI_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "shop payments",
        "version": "1.0.0",
        "description": "Charges and refunds, idempotent by Idempotency-Key.",
    },
    "paths": _PATHS,
    "components": {"schemas": _SCHEMAS},
}
