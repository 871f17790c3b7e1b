"""queue_message: a message from the queue is read within bounds; anything else is refused with a reason."""

from __future__ import annotations

import json

import pytest
from connector.core.errors import InputError
from connector.core.queue_message import SQS_UNSAFE, from_message, sqs_safe, with_dead_letter_reason

EVENT = {"id": "e1", "type": "page_viewed"}


@pytest.mark.parametrize("version", ["2.0", "true", '"2"', "1", "3", "null", "[2]"])
def test_only_version_2_written_as_the_integer_2_is_read(version):
    with pytest.raises(InputError, match=r"^message.v: unknown message version"):
        from_message(f'{{"v":{version},"action":"a","event":{{}}}}')


@pytest.mark.parametrize("number", ["1e400", "-1E999", "NaN", "Infinity", "1" + "0" * 5000])
def test_numbers_beyond_the_float_range_make_the_message_unreadable(number):
    with pytest.raises(InputError, match=r"^message: is not a connector queue message"):
        from_message(f'{{"v":2,"action":"a","event":{{"x":{number}}}}}')


def test_nesting_beyond_the_decoders_limit_is_refused_not_raised():
    with pytest.raises(InputError) as refused:
        from_message('{"v":2,"action":"a","event":' + "[" * 20_000 + "]" * 20_000 + "}")
    assert str(refused.value) == "message: is nested too deeply to be read"


def test_sqs_safe_escapes_what_sqs_refuses_and_reads_back_as_the_same_value():
    body = with_dead_letter_reason(json.dumps({"v": 2, "event": {"note": "a\ud800b\ufffe\x1f"}}), "why", 1)
    assert SQS_UNSAFE.search(body)
    safe = sqs_safe(body)
    assert not SQS_UNSAFE.search(safe)
    safe.encode("utf-8")
    assert json.loads(safe) == json.loads(body)
    assert sqs_safe("plain é ✓ 東京 \U0001f600") == "plain é ✓ 東京 \U0001f600"


@pytest.mark.parametrize("body", ["[1]", '"text"', "{", "[" * 20_000 + "]" * 20_000])
def test_a_dead_letter_note_needs_a_json_object(body):
    with pytest.raises((ValueError, RecursionError)):
        with_dead_letter_reason(body, "why", 1)
