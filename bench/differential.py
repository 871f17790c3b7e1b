"""The core path of this tree against a git revision's, on thousands of varied Tealium payloads.

    make differential REV=main        (or: .venv/bin/python -m bench.differential main)

Speed work on the core must not change what it answers. This runs `prepare_events` of both trees on
the same payloads: the samples in events/tealium, mutated copies with odd values and retail columns,
and flat attribute documents. They go through every sample action and its variants (decimal comma, no
automapping, both consent modes, mapped `contents`, custom data). Every answer is compared: the wire
bytes, the errors and the warnings with their order and text, and `map_values`. It prints
"identical" or the first difference, and exits 1 on a difference. The generator is seeded: a run is
repeatable.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# No connector import here (and none of bench.payloads, which imports it): each side of the
# comparison imports its own tree's connector, in its own interpreter, in `answers`.
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("purchase-event.json", "pageview-event.json", "visitor.json")
#: Later than every sample's timestamp: the window check sees some events as too old, some not.
NOW_MS = 1_795_003_600_000

#: Values a Tealium attribute may hold, the odd ones included.
VALUES = [
    *(None, "", " ", "x", "  Ada@Example.COM ", "a@b", "12", 12, 12.5, "12,50", "1.299,00", "1,299", "1,299.00"),
    *("129.99", "-1", True, False, 0, 1, "1", "0", "yes", "granted", "no", [], ["a", "b"], {}, {"k": "v"}),
    *([" A@b.c ", "a@b.c", "x@y.z", "q@r.s"], "usd", "EUR", "jpy", "kwd", "XX", "2001:db8::7", "010.1.1.1"),
    *("203.0.113.42", "fe80::1%eth0", "\ud800", "José Ș", "NY", "https://x.example/?oppref=abc&y=1", "ftp://x"),
    *("not a url", "a" * 70, "A" * 64, "0" * 64, "10001", "1000-1", "#", "+40 746 123 456", "001 (555) 123-4567"),
    *("555", 1795000000, "1795000000000", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00", 1e30, -5, 2**40),
    *("00000000-0000-0000-0000-000000000000", "AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee", "web", "Mobile_App ", "tv"),
    *("x" * 1100, "3", "99999999999", 3.0, "2.5", ["1", "2", ""], ["25.00", "79,99", None], "apparel, shoes ,"),
    *("+1 (555) 987-6543 ext. 12", " 0040 746\t123 456", "+40.746.123.456", "1796171399", " 1796171399 "),
]
#: The attributes the sample actions and automapping read, and a few they do not.
ATTRIBUTES = [
    *("order_id", "customer_email", "customer_phone", "customer_id", "customer_first_name", "customer_last_name"),
    *("customer_country", "customer_state", "customer_city", "customer_zip", "oppref", "qp.oppref", "cp.__obref"),
    *("_corder", "_csubtotal", "_ccurrency", "tealium_timestamp_epoch", "consent_ok", "event_id", "visitor_id"),
    *("lead_value_cents", "lead_currency", "newsletter_list", "trial_id", "email_address", "loyalty_id", "items"),
    *("home_country", "marketing_opt_out", "total", "cur", "gaid", "eh", "raw_id", "src", "oo", "ts", "plan"),
    *("prop_a", "prop_b", "amt", "url", "ua", "client_ip", "useragent", "dom.url", "__obref", "__oppref", "post_time"),
]
RETAIL = ("_csku", "_cprod", "_cprodname", "_ccat", "_cquan", "_cprice")
#: Variants of every sample action, and actions that reach what the samples do not.
EXTRA_ACTIONS = {
    "mapped_contents": {
        "delivery": "realtime",
        "event_type": "order_created",
        "mappings": {
            **{"id": "order_id", "contents": "items", "currency": "cur", "email": "customer_email"},
            **{"source_url": "dom.url", "ip_address": "client_ip", "user_agent": "ua", "plan_id": "plan"},
            **{"android_advertising_id": "gaid", "email_sha256": "eh", "external_id_raw": "raw_id"},
            **{"action_source": "src", "opt_out": "oo", "timestamp_ms": "ts"},
        },
    },
    "custom": {
        "delivery": "realtime",
        "event_type": "custom",
        "custom_event_name": "x_y",
        "mappings": {"id": "event_id", "contents": "items", "plan_id": "plan", "amount": "amt", "currency": "cur"},
        "custom_data": {"a": "prop_a", "b": "prop_b", "c": "data.udo.deep"},
    },
    "app": {"delivery": "realtime", "event_type": "app_opened", "mappings": {"id": "event_id"}},
}


def actions_document() -> dict[str, object]:
    samples = json.loads((ROOT / "functions" / "ingest" / "actions.json").read_text(encoding="utf-8"))["actions"]
    actions = {**samples, **EXTRA_ACTIONS}
    for name, action in list(actions.items()):
        actions[f"{name}_comma"] = {**action, "decimal_separator": ","}
        actions[f"{name}_no_automapping"] = {**action, "disable_automapping": True}
        actions[f"{name}_consent_skip"] = {**action, "consent_attribute": "consent_ok", "on_no_consent": "skip"}
        actions[f"{name}_consent_opt_out"] = {**action, "consent_attribute": "cp.consent", "on_no_consent": "opt_out"}
    return {"actions": actions}


def payloads(seed: int, count: int) -> list[object]:
    """The samples, `count` mutated copies of them and `count // 5` flat documents."""
    rng = random.Random(seed)
    samples = [json.loads((ROOT / "events" / "tealium" / name).read_text(encoding="utf-8")) for name in SAMPLES]
    flat = [{key: rng.choice(VALUES) for key in rng.sample(ATTRIBUTES, rng.randint(0, 20))} for _ in range(count // 5)]
    return [*samples, *(_mutated(rng.choice(samples), rng) for _ in range(count)), *flat]


def _mutated(sample: dict, rng: random.Random) -> object:
    document = copy.deepcopy(sample)
    if "current_visit" in document:
        visit = document["current_visit"]
        last_udo = visit["last_event"].setdefault("data", {}).setdefault("udo", {})
        scopes = [document["properties"], visit["properties"], document["flags"], visit["last_event"], last_udo]
    else:
        data = document.setdefault("data", {})
        scopes = [document, data.setdefault("udo", {}), data.setdefault("firstparty_tealium_cookies", {})]
    for _ in range(rng.randint(0, 8)):
        scope, attribute, draw = rng.choice(scopes), rng.choice(ATTRIBUTES), rng.random()
        if draw < 0.15:
            scope.pop(attribute, None)
        elif draw < 0.25:
            scope["items"] = [_item(rng) for _ in range(rng.randint(0, 4))]
        elif draw < 0.4:
            _set_retail_columns(scope, rng)
        else:
            scope[attribute] = rng.choice(VALUES)
    if rng.random() < 0.1:
        document.pop("data", None)
    return rng.choice([None, [], "x", 5]) if rng.random() < 0.03 else document


def _item(rng: random.Random) -> dict[str, object]:
    keys = ["id", "group_id", "name", "content_type", "quantity", "amount", "currency", "variant_dict", "price"]
    odd = [{"size": "M", "n": 3}, {"": "x"}, {"a": None}]
    return {key: rng.choice(VALUES + odd) for key in rng.sample([*keys, "price_major", "bogus"], rng.randint(0, 6))}


def _set_retail_columns(scope: dict, rng: random.Random) -> None:
    """Index-aligned retail columns: mostly full and plain, sometimes short, holed or odd, or comma text."""
    count, odd_rate = rng.randint(0, 12), rng.choice([0, 0, 0.05, 0.3])
    plain = {
        "_csku": lambda i: f"SKU-{i}",
        "_cprod": lambda i: str(1000 + i),
        "_cprodname": lambda i: rng.choice(["Shirt", " padded ", "Shirt é", "x" * rng.randint(1, 600)]),
        "_ccat": lambda i: rng.choice(["apparel", " a "]),
        "_cquan": lambda i: str(rng.randint(0, 10 ** rng.randint(1, 10))),
        "_cprice": lambda i: f"{rng.randint(0, 10**6)}{rng.choice('..,')}{rng.randint(0, 99):02d}",
    }
    for name in RETAIL:
        if rng.random() < 0.1:
            continue
        column = [rng.choice(VALUES) if rng.random() < odd_rate else plain[name](i) for i in range(count)]
        if rng.random() < 0.1:
            column = column[: rng.randint(0, count)]
        scope[name] = column if rng.random() < 0.85 else ",".join(str(value) for value in column)


def answers(seed: int, count: int) -> list[object]:
    """What the connector on sys.path answers for every payload through every action (JSON-ready)."""
    from connector.core.actions import parse_actions
    from connector.core.mapping import map_values
    from connector.core.pipeline import prepare_events
    from connector.core.settings import Settings
    from connector.core.tealium import read_payload

    settings = Settings(pixel_id="px", api_key_secret_id="key", queue_url=None)
    documents = payloads(seed, count)
    out: list[object] = []
    for name, action in sorted(parse_actions(json.dumps(actions_document())).items()):
        for prepared in prepare_events(action, documents, settings, NOW_MS):
            out.append(
                [
                    *(name, prepared.index, prepared.event_id, prepared.skipped, prepared.ok),
                    prepared.encoded.decode("utf-8") if prepared.encoded is not None else None,
                    [[issue.field, issue.reason] for issue in prepared.errors],
                    [[issue.field, issue.reason] for issue in prepared.warnings],
                ]
            )
        for index, document in enumerate(documents[:50]):
            try:
                values = repr(map_values(action, read_payload(document, index)))
            except Exception as problem:  # what is raised is part of the answer
                values = f"{type(problem).__name__}: {problem}"
            out.append([name, index, "map_values", values])
    return out


def first_difference(ours: list[object], theirs: list[object]) -> str | None:
    """None when the answers are the same, else where and how they first differ."""
    for mine, other in zip(ours, theirs, strict=False):
        if mine != other:
            return f"action {mine[0]}, payload {mine[1]}:\n  this tree: {mine[2:]}\n  the revision: {other[2:]}"
    if len(ours) != len(theirs):
        return f"{len(ours)} answers here against {len(theirs)} in the revision"
    return None


def _answers_of(connector_root: Path, seed: int, count: int) -> list[object]:
    command = [sys.executable, "-m", "bench.differential", "--answers", str(connector_root), str(seed), str(count)]
    return json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout)


def _export_connector(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", revision, "layers/connector/connector"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "layers" / "connector"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.differential", description=__doc__.splitlines()[0])
    parser.add_argument("revision", nargs="?", default="main", help="the git revision to compare with (main)")
    parser.add_argument("--seeds", type=int, default=3, help="generator seeds, one run each (3)")
    parser.add_argument("--payloads", type=int, default=1500, help="mutated payloads per seed (1500)")
    parser.add_argument("--answers", nargs=3, metavar=("ROOT", "SEED", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.answers:  # one side of the comparison, in its own interpreter
        root, seed, count = args.answers
        sys.path[:0] = [root, str(ROOT)]
        json.dump(answers(int(seed), int(count)), sys.stdout)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        theirs_root = _export_connector(args.revision, Path(scratch))
        for seed in range(1, args.seeds + 1):
            ours = _answers_of(ROOT / "layers" / "connector", seed, args.payloads)
            difference = first_difference(ours, _answers_of(theirs_root, seed, args.payloads))
            if difference:
                print(f"seed {seed}: differs from {args.revision} at {difference}")
                return 1
            print(f"seed {seed}: identical to {args.revision} ({len(ours):,} answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
