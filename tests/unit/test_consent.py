"""Tealium consent as Tealium writes it: the CONSENTMGR cookie (plain or encoded) and lists of granted categories."""

from __future__ import annotations

import pytest
from connector.core.consent import MISSING, NOT_READABLE, TEALIUM_CATEGORIES, Consent, category_number, read_consent

DISPLAY_ADS, ANALYTICS = 3, 1
#: A CONSENTMGR value as Tealium's Consent Manager writes it (display_ads granted, email denied).
CONSENTMGR = "consent:true|ts:1762183974556|c1:1|c3:1|c5:0"


@pytest.mark.parametrize(
    "raw, required, expected",
    [
        (CONSENTMGR, [DISPLAY_ADS], Consent(True)),
        (CONSENTMGR, [DISPLAY_ADS, ANALYTICS], Consent(True)),
        (CONSENTMGR, [5], Consent(False)),  # email: c5:0
        (CONSENTMGR, [7], Consent(False)),  # social: not mentioned, so not granted
        ("consent%3Atrue%7Cts%3A1762183974556%7Cc1%3A1%7Cc3%3A1", [DISPLAY_ADS], Consent(True)),
        ("consent%253Atrue%257Cc3%253A1", [DISPLAY_ADS], Consent(True)),  # encoded twice
        (CONSENTMGR + "|dns:true", [DISPLAY_ADS], Consent(False)),  # California "do not sell"
        (CONSENTMGR + "|dns:false", [DISPLAY_ADS], Consent(True)),
        ("consent:false|ts:1762183974556|c1:1|c3:1", [DISPLAY_ADS], Consent(False)),
        ("CONSENT:TRUE|C3:1", [DISPLAY_ADS], Consent(True)),
        ("consent:true|c3:1|", [DISPLAY_ADS], Consent(True)),
        (["analytics", "display_ads"], [DISPLAY_ADS, ANALYTICS], Consent(True)),
        (["analytics"], [DISPLAY_ADS], Consent(False)),
        (["c3", "my_own_category"], [DISPLAY_ADS], Consent(True)),  # an id, and a site's own category
        ([], [DISPLAY_ADS], Consent(False)),
        ("analytics,display_ads", [DISPLAY_ADS], Consent(True)),  # a flattened list
        ('["analytics", "display_ads"]', [DISPLAY_ADS], Consent(True)),  # a list as JSON text
        (None, [DISPLAY_ADS], MISSING),
        ("", [DISPLAY_ADS], MISSING),
        ("consent:maybe|c3:1", [DISPLAY_ADS], NOT_READABLE),
        ("consent:true|c3:yes", [DISPLAY_ADS], NOT_READABLE),
        ("c3=1;c1=1", [DISPLAY_ADS], NOT_READABLE),
        ("[not json", [DISPLAY_ADS], NOT_READABLE),
        (["display ads"], [DISPLAY_ADS], NOT_READABLE),
        ([{"ct": "3"}], [DISPLAY_ADS], NOT_READABLE),
        ({"display_ads": True}, [DISPLAY_ADS], NOT_READABLE),
        (1, [DISPLAY_ADS], NOT_READABLE),
        (True, [DISPLAY_ADS], NOT_READABLE),
    ],
)
def test_consent_is_granted_only_when_every_required_category_is(raw, required, expected):
    assert read_consent(raw, required) == expected


def test_unreadable_and_missing_consent_say_why_without_the_value():
    assert MISSING.problem == "is missing"
    assert NOT_READABLE.problem.startswith("cannot be read as Tealium consent")


@pytest.mark.parametrize(
    "name, number",
    [("analytics", 1), ("display_ads", 3), ("crm", 15), (" Display_Ads ", 3), ("c3", 3), ("C12", 12), ("c0", None)],
)
def test_categories_by_name_or_id(name, number):
    assert category_number(name) == number


def test_tealium_default_categories_are_numbered_in_its_order():
    assert list(TEALIUM_CATEGORIES) == [
        "analytics", "affiliates", "display_ads", "search", "email", "personalization", "social", "big_data",
        "misc", "cookiematch", "cdp", "mobile", "engagement", "monitoring", "crm",
    ]  # fmt: skip
    assert list(TEALIUM_CATEGORIES.values()) == list(range(1, 16))
