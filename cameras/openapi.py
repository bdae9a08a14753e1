"""The OpenAPI 3.1 description of the camera push API, served at /api/schema/."""

SCHEMA = {
    "openapi": "3.1.0",
    "info": {
        "title": "ALPR Alerts camera API",
        "version": "1",
        "description": "Edge devices and cameras push frames; recognition runs on the workers. "
        "Every request carries the camera's token (shown once when the camera is created).",
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "components": {
        "securitySchemes": {
            "cameraToken": {"type": "http", "scheme": "token", "description": "Authorization: Token <camera token>"},
        },
        "schemas": {
            "Accepted": {
                "type": "object",
                "required": ["frame"],
                "properties": {
                    "frame": {"type": "integer", "description": "Id of the stored frame."},
                    "duplicate": {
                        "type": "boolean",
                        "description": "True when the Idempotency-Key was already used: nothing new was stored.",
                    },
                },
            },
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        },
    },
    "security": [{"cameraToken": []}],
    "paths": {
        "/api/frames/": {
            "post": {
                "operationId": "postFrame",
                "summary": "Push one frame",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "Any unique string per frame (a UUID, or the device's frame counter). A retried "
                        "upload with the same key is answered with the first frame's id and stored once; "
                        "the same key with a different image is 409.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["image"],
                                "properties": {
                                    "image": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "JPEG or PNG, at most 10 MB and 40 megapixels.",
                                    },
                                    "captured_at": {
                                        "type": "string",
                                        "format": "date-time",
                                        "description": "ISO 8601; without a zone it is UTC; absent: time of receipt. "
                                        "More than ALPR_CAPTURED_AT_PAST_DAYS (30) days in the past or "
                                        "ALPR_CAPTURED_AT_FUTURE_SECONDS (300) s in the future is 400.",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "Stored; recognition is queued.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
                    },
                    **{
                        str(code): {
                            "description": text,
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        }
                        for code, text in [
                            (400, "Not an image, corrupt, a decompression bomb, or a bad field."),
                            (401, "No or unknown token."),
                            (403, "The camera is disabled."),
                            (409, "The Idempotency-Key was used before with a different image."),
                            (413, "Over 10 MB or 40 megapixels."),
                        ]
                    },
                },
            },
        },
    },
}
