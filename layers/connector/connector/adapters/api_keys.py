"""The OpenAI API key from Secrets Manager, cached across invocations for a bounded time."""

from __future__ import annotations

import json
import re

from connector.core.errors import RetryableSendError

#: template.yaml creates the secret with a placeholder value that starts like this.
PLACEHOLDER_PREFIX = "REPLACE_WITH_"
#: What a key may hold: printable ASCII, no space (an HTTP header value; OpenAI's keys are `sk-` and [A-Za-z0-9_-]).
KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")


class ApiKeys:
    """Reads each secret through Powertools' cache; `max_age` bounds how long a rotated key lingers."""

    def __init__(self, max_age_seconds: int) -> None:
        self.max_age_seconds = max_age_seconds

    def get(self, secret_id: str, force_fetch: bool = False) -> str:
        if not secret_id:
            raise RetryableSendError("no API key secret configured (API_KEY_SECRET_ID)")
        # Imported on first use: Powertools' parameters module loads boto3 (about 50 ms of a cold start).
        from aws_lambda_powertools.utilities import parameters
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

        try:
            value = parameters.get_secret(secret_id, max_age=self.max_age_seconds, force_fetch=force_fetch)
        except (GetParameterError, TransformParameterError) as err:
            # The events are kept (queued or retried) until the secret can be read.
            raise RetryableSendError(f"cannot read the API key secret: {type(err.__cause__ or err).__name__}") from None
        return parse_secret_value(value, secret_id)


def parse_secret_value(value: object, secret_id: str = "") -> str:
    """The secret holds the key itself, or a JSON object {"api_key": "..."}.

    A key goes into an HTTP header, so it must be printable ASCII without spaces: anything else inside it
    (a line break and a note pasted after the key) is refused here, naming the secret and never the value.
    Sent as it is, urllib3 would raise an error quoting the whole header, key included.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise RetryableSendError("the API key secret is not text")
    text = value.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("api_key", "")).strip()
        except (ValueError, AttributeError):
            raise RetryableSendError('the API key secret is JSON without a string "api_key"') from None
    if not text:
        raise RetryableSendError("the API key secret is empty")
    if text.startswith(PLACEHOLDER_PREFIX):
        raise RetryableSendError("the API key secret still holds the template's placeholder: put your key in it")
    if not KEY_CHARACTERS.fullmatch(text):
        raise RetryableSendError(
            f"the API key secret {secret_id or '(unnamed)'} holds whitespace, a control or a non-ASCII character"
            " inside the key (a line break and a note pasted with it?): store the key alone"
        )
    return text
