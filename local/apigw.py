"""API Gateway REST proxy events, shaped as API Gateway sends them to IngestFunction.

Used by the local HTTP front, the tests, and to write the `sam local invoke` samples in events/.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping

RESOURCE = "/actions/{action}"
STAGE = "v1"


def proxy_event(
    action: str,
    body: str | bytes | None,
    *,
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict:
    """A REST API (v1 payload) proxy event for `POST /actions/{action}`."""
    all_headers = {"Host": "localhost", "X-Forwarded-Proto": "https"}
    if content_type:
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    is_binary = isinstance(body, bytes)
    now = time.time()
    return {
        "resource": RESOURCE,
        "path": f"/actions/{action}",
        "httpMethod": "POST",
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"action": action},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": RESOURCE,
            "httpMethod": "POST",
            "path": f"/{STAGE}/actions/{action}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "apiKey": "local-api-key"},
        },
        "body": base64.b64encode(body).decode("ascii") if is_binary else body,
        "isBase64Encoded": is_binary,
    }
