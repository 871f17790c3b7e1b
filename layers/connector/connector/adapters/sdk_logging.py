"""Logging rules for the AWS SDK's own loggers: nothing below INFO from them, since their DEBUG logs carry secrets."""

from __future__ import annotations

import logging

#: SDK loggers that log whole requests and responses at DEBUG: Secrets Manager's answer (the API key)
#: and SendMessageBatch's bodies (queued events). Kept at INFO even when the root logger is at DEBUG
#: (Lambda's application log level), since nothing below INFO there is safe to log.
SDK_LOGGERS = ("botocore", "boto3")


def quiet_sdk_loggers() -> None:
    floor = max(logging.INFO, logging.getLogger().getEffectiveLevel())
    for name in SDK_LOGGERS:
        sdk_logger = logging.getLogger(name)
        if sdk_logger.level == logging.NOTSET or sdk_logger.level < logging.INFO:
            sdk_logger.setLevel(floor)  # fixed now: a root logger turned to DEBUG later does not reach them
