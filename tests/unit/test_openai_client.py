"""openai_client: every attempt's timeouts are cut to the time budget left, so one slow answer cannot outlive it."""

from __future__ import annotations

import time

from connector.adapters.openai_client import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, OpenAIClient


def test_without_a_deadline_the_timeouts_are_the_clients_own():
    timeout = OpenAIClient()._timeout_within(None)
    assert (timeout.connect_timeout, timeout.read_timeout) == (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)


def test_a_deadline_caps_connect_and_read_together():
    # GIVEN 2 s of budget left, less than the 10 s read timeout
    deadline = time.monotonic() + 2
    timeout = OpenAIClient()._timeout_within(deadline)
    # THEN the whole attempt is cut to what is left
    assert 0 < timeout.total <= 2
    timeout.start_connect()
    assert timeout.connect_timeout <= 2 and timeout.read_timeout <= 2


def test_a_spent_budget_still_gives_a_short_positive_timeout():
    timeout = OpenAIClient()._timeout_within(time.monotonic() - 5)
    assert timeout.total == 0.1
