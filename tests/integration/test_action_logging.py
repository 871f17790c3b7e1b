"""The action in the request path is the caller's text: it reaches a log line only when it names a
configured action."""

from __future__ import annotations

import json

import pytest

from tests.support.loopback import call, purchase

pytestmark = pytest.mark.integration


def ingest_done_lines(caplog) -> list[dict]:
    return [vars(r) for r in caplog.records if r.getMessage() == "ingest done"]


def test_unknown_action_is_not_logged_by_name(ingest_app, standin, lambda_context, caplog):
    status, _ = call(ingest_app, "forged-action-name-7f3a", purchase(), lambda_context)

    (line,) = ingest_done_lines(caplog)
    assert status == 404
    assert line["action"] is None and line["status_code"] == 404
    assert "forged-action-name-7f3a" not in json.dumps(line, default=str)
    assert "forged-action-name-7f3a" not in caplog.text


def test_configured_action_is_logged_by_name(ingest_app, standin, lambda_context, caplog):
    status, _ = call(ingest_app, "purchase_batched", purchase(), lambda_context)

    (line,) = ingest_done_lines(caplog)
    assert status == 202
    assert line["action"] == "purchase_batched"
