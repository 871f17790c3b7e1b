"""api_keys: the secret's value is the key, or {"api_key": ...}; a key unfit for a header is refused by secret id."""

from __future__ import annotations

import pytest
from connector.adapters.api_keys import parse_secret_value
from connector.core.errors import RetryableSendError

SECRET_ID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:openai-key-AbCdEf"
KEY = "sk-proj-Zq8Lw2Nx7Rv4Tb1Ky6Pc3Hd9Mf5"


@pytest.mark.parametrize(
    "value", [KEY, f"  {KEY}\n", f'{{"api_key": "{KEY}"}}', f'{{"api_key": " {KEY}\\n"}}'.encode()]
)
def test_the_key_is_read_from_text_json_or_bytes_and_trimmed(value):
    assert parse_secret_value(value, SECRET_ID) == KEY


@pytest.mark.parametrize(
    "value",
    [
        f"{KEY}\n# rotated in March",  # a note pasted on the next line
        f"{KEY}\r\nsk-old-one",
        f"{KEY} {KEY}",
        f"{KEY}\t#",
        f"{KEY}\x00",
        "sk-proj-Zq8Lw2Nx7\u200bRv4Tb1",  # a zero-width space from a chat window
        "sk-proj-Zq8Lw2Nx7Rv4Tb1Ky6Pc3Hd9Mf5é",
        f'{{"api_key": "{KEY}\\n# old"}}',
    ],
)
def test_a_key_with_whitespace_or_a_control_character_inside_is_refused_naming_the_secret_only(value):
    with pytest.raises(RetryableSendError) as refused:
        parse_secret_value(value, SECRET_ID)
    message = str(refused.value)
    assert SECRET_ID in message and "whitespace" in message
    assert not any(KEY[i : i + 8] in message for i in range(len(KEY) - 7))
