"""The one send path real-time and batched delivery share: wire events in, one outcome per event out.

Events of one route are packed into as few requests as the limits allow. After a 400 the bad
events are found at a bounded cost (`_isolate`), so one bad event never sinks its request.
What happens to a failure is the caller's choice: real-time enqueues it, the batch sender hands
it back to SQS or dead-letters it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from connector.core.errors import RetryableSendError
from connector.core.packing import pack_events
from connector.core.ports import KeyProvider, VendorClient
from connector.core.redact import redact_vendor_message
from connector.core.types import Outcome, Response, Route, SendResult, SendStats
from connector.core.wire.request import MAX_REQUEST_BYTES, read_error, request_body, request_headers, request_url


class Sender:
    def __init__(self, client: VendorClient, get_api_key: KeyProvider, integration_source: str | None = None) -> None:
        self.client = client
        self._get_api_key = get_api_key
        #: Sent as `integration_source` on every request (INTEGRATION_SOURCE); None omits it.
        self.integration_source = integration_source
        self.stats = SendStats()

    def send(self, route: Route, encoded: Sequence[bytes], deadline: float | None = None) -> list[SendResult]:
        """One result per event, in the order given."""
        results: list[SendResult | None] = [None] * len(encoded)
        try:
            api_key = self._get_api_key(route, False)
        except RetryableSendError as err:
            return [SendResult(Outcome.RETRY, str(err))] * len(encoded)
        requests, too_large = pack_events(encoded, route.validate_only, self.integration_source)
        for position in too_large:
            results[position] = SendResult(Outcome.REJECTED, f"event is larger than {MAX_REQUEST_BYTES} bytes")
        pending = [list(positions) for positions in requests]
        refreshed = False
        while pending:
            positions = pending.pop(0)
            if deadline is not None and time.monotonic() >= deadline:
                _fill(results, positions, SendResult(Outcome.RETRY, "time budget spent before sending"))
                continue
            try:
                response = self._post(route, api_key, [encoded[p] for p in positions], deadline)
            except RetryableSendError as err:
                # OpenAI is unreachable: later requests would only burn the budget.
                _give_up(results, positions, pending, SendResult(Outcome.RETRY, str(err)))
                break
            status = response.status
            if 200 <= status < 300:
                done = Outcome.VALIDATED if route.validate_only else Outcome.SENT
                _fill(results, positions, SendResult(done, http_status=status, request_id=response.request_id))
            elif status in (400, 413, 422):
                pending[:0] = _isolate(results, positions, response.body, encoded, api_key)
            elif status in (401, 403) and not refreshed:
                refreshed = True
                try:
                    api_key = self._get_api_key(route, True)
                except RetryableSendError as err:
                    _give_up(results, positions, pending, SendResult(Outcome.RETRY, str(err)))
                    break
                pending.insert(0, positions)
            elif status in (401, 403):
                reason = f"OpenAI answered {status}: check the API key and pixel id"
                _give_up(results, positions, pending, SendResult(Outcome.AUTH, reason))
                break
            else:
                reason = f"OpenAI answered {status} after retries"
                _give_up(results, positions, pending, SendResult(Outcome.RETRY, reason))
                break
        return [r or SendResult(Outcome.RETRY, "not attempted") for r in results]

    def _post(self, route: Route, api_key: str, events: list[bytes], deadline: float | None) -> Response:
        response = self.client.post(
            request_url(route.base_url, route.pixel_id),
            request_headers(api_key),
            request_body(events, route.validate_only, self.integration_source),
            deadline,
        )
        self.stats.count(response.status, response.retries)
        return response


def _fill(results: list[SendResult | None], positions: Sequence[int], result: SendResult) -> None:
    for position in positions:
        results[position] = result


def _give_up(
    results: list[SendResult | None], positions: Sequence[int], pending: list[list[int]], result: SendResult
) -> None:
    """The request in hand and every request still pending all end with `result`."""
    for rest in [positions, *pending]:
        _fill(results, rest, result)


def _isolate(
    results: list[SendResult | None], positions: list[int], body: bytes, encoded: Sequence[bytes], api_key: str
) -> list[list[int]]:
    """After a 400: the requests to send next. The event OpenAI named (`error.param`) is rejected and
    the rest split into two halves; with no event named, the request itself is split in two; a single
    event refused is rejected.

    The cost is bounded whatever mix of good and bad events a request of n events holds:

    - Requests: the requests form a binary tree (each refused request has at most two children, which
      share its events minus any rejected one), so with R(1) = 1 and R(0) = 0 a request of m events costs
      at most R(m) <= 1 + R(a) + R(b) with a + b <= m and a, b < m: R(m) <= 2m - 1 by induction on m.
      At most 2n - 1 requests.
    - Bytes: a child holds at most half its parent's events (rounded up), so the tree is at most
      1 + ceil(log2 n) levels deep, and the requests of one level hold disjoint events of the first.
      Events' bytes sent: at most (1 + ceil(log2 n)) times the first request's; each request also
      repeats the body's few dozen bytes of envelope (`request_overhead`).

    Resending the rest whole after each named event (what this did before) is n requests and about
    n/2 times the request's bytes when every event is bad: 461 MB for one 1 MB request.
    bench/recovery.py measures both figures against the stand-in (bench/README.md).
    """
    detail = read_error(body)
    # The message reaches answers, logs and the dead-letter queue: nothing OpenAI quotes from the events.
    message = redact_vendor_message(detail.message, (encoded[p] for p in positions), secrets=(api_key,))
    if detail.event_index is not None and 0 <= detail.event_index < len(positions):
        results[positions[detail.event_index]] = SendResult(Outcome.REJECTED, message)
        rest = positions[: detail.event_index] + positions[detail.event_index + 1 :]
    elif len(positions) == 1:
        results[positions[0]] = SendResult(Outcome.REJECTED, message)
        return []
    else:
        rest = positions
    middle = (len(rest) + 1) // 2
    return [half for half in (rest[:middle], rest[middle:]) if half]
