"""Helpers shared by the pure-core tests: a fixed clock, the bundled actions and settings, contract hashes."""

from __future__ import annotations

from collections.abc import Mapping

from connector.core.actions import ActionConfig, load_actions
from connector.core.settings import Settings
from connector.core.types import Issue
from connector.core.wire.build import BuiltEvent, EventSpec, build_event

from tests.support.repo import ROOT

BUNDLED_ACTIONS = ROOT / "functions" / "ingest" / "actions.json"

#: The clock every core test runs at; sample events are stamped at this instant.
NOW_MS = 1_795_000_000_000
#: The settings the sample events are checked with.
SAMPLE_ENV = {"PIXEL_ID": "px_123", "API_KEY_SECRET_ID": "openai-key"}

# The contract's test vectors (docs/wire-contract.md), as hex literals.
EMAIL_USER_SHA256 = "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"
EMAIL_ADA_SHA256 = "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"
PHONE_US_SHA256 = "d6736136ea896c1bfdc553e0e86e702c70d060d805696ca3e4e9e0961353860a"
PHONE_RO_SHA256 = "af9e136cc1c34ac87999ef8bd28b3d15c08a75b9ae1c2018b39c0f37c23296bd"
PHONE_UK_SHA256 = "40f19965b0d0ebba641dbd9309c3ac18542d9ad976c47f8d35347daea67ee2c2"
EXTERNAL_ID_SHA256 = "382211e688c29ae2dcce0b401999831aec27161d9bc0ffd092545a828a18bbc8"
EXTERNAL_ID_CUSTOMER_123_SHA256 = "18f69bcd2f9cc9c38195e722b2a5590429840ea5090971d2256e026926e55fa1"
PHONE_SF_SHA256 = "758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0"
FIRST_NAME_MARY_JANE_SHA256 = "f08f448a5e7a9dc3619bb7c129f6a7d5fc6af002cea17ad71dfdc1c68f4d4e0e"
LAST_NAME_OCONNOR_SHA256 = "7a0fbfdf40cbeb97429bdb88f512cecd27f0d44b7e57986ab578423bb61936ac"
FIRST_NAME_JOSE_SHA256 = "d994e1d001886fe5b45b1267bd1fa2b752ac50742579bd3dad7b2a2aa0ed6866"
LAST_NAME_STEFANESCU_SHA256 = "1c43886f1047ed5dfae59c0945ff61475b7df3a912312a6484ce80429df049a1"
# Hashes of geo values: OpenAI takes none of them any more; they appear only as what is refused.
COUNTRY_US_SHA256 = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
CITY_NEW_YORK_SHA256 = "350c754ba4d38897693aa077ef43072a859d23f613443133fecbbd90a3512ca5"
ZIP_12345_SHA256 = "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5"

#: The wire `data` of events/tealium/purchase-event.json (its retail extension's two items).
SAMPLE_PURCHASE_DATA = {
    "type": "contents",
    "amount": 12999,
    "currency": "USD",
    "contents": [
        {
            "id": "SKU-RED-M",
            "name": "Red T-Shirt",
            "content_type": "apparel",
            "quantity": 2,
            "amount": 2500,
            "currency": "USD",
        },
        {
            "id": "SKU-BLU-L",
            "name": "Blue Hoodie",
            "content_type": "apparel",
            "quantity": 1,
            "amount": 7999,
            "currency": "USD",
        },
    ],
}


def bundled_actions() -> dict[str, ActionConfig]:
    return load_actions(BUNDLED_ACTIONS)


def sample_settings() -> Settings:
    return Settings.from_env(SAMPLE_ENV)


def web_values(**values: object) -> dict[str, object]:
    """The fields every web event needs, plus the ones a test cares about."""
    return {"id": "evt-1", "timestamp_ms": NOW_MS, "source_url": "https://shop.example.com/p", **values}


def build(event_type: str = "page_viewed", spec: Mapping[str, object] | None = None, **values: object):
    return build_event(EventSpec(event_type, **(spec or {})), web_values(**values), NOW_MS)


def issue_fields(issues: list[Issue]) -> list[str]:
    return [issue.field for issue in issues]


def all_messages(built: BuiltEvent) -> str:
    return "\n".join(str(issue) for issue in [*built.errors, *built.warnings])
