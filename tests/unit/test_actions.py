"""actions: the actions document, checked whole at load with messages naming the action and the field."""

from __future__ import annotations

import json
import re

import pytest
from connector.core.actions import MAPPABLE_FIELDS, ActionConfig, load_actions, parse_actions
from connector.core.errors import ConfigError
from connector.core.types import Route
from connector.core.wire.build import EventSpec

from tests.support.core import BUNDLED_ACTIONS, bundled_actions

MINIMAL = {"delivery": "realtime", "event_type": "page_viewed"}


def document(**entry: object) -> str:
    return json.dumps({"actions": {"purchase": {**MINIMAL, **entry}}})


def test_the_bundled_document_loads():
    actions = bundled_actions()
    assert set(actions) == {
        "purchase",
        "purchase_batched",
        "page_view",
        "lead",
        "trial_started",
        "newsletter_signup",
        "purchase_debug",
    }
    assert actions["purchase"].event_type == "order_created" and actions["purchase"].delivery == "realtime"
    assert actions["purchase_batched"].delivery == "batched"
    assert actions["trial_started"].action_source == "web"
    assert actions["trial_started"].mappings["plan_id"] == "current_visit.properties.plan"
    assert (actions["newsletter_signup"].event_type, actions["newsletter_signup"].custom_event_name) == (
        "custom",
        "newsletter_signup",
    )
    assert actions["purchase_debug"].debug is True


def test_a_minimal_action_takes_the_defaults():
    assert parse_actions(document())["purchase"] == ActionConfig(
        name="purchase", delivery="realtime", event_type="page_viewed"
    )


def test_money_and_consent_settings_are_read():
    action = parse_actions(
        document(decimal_separator=",", consent_attribute="cp.consent_marketing", on_no_consent="opt_out")
    )["purchase"]
    assert (action.decimal_separator, action.consent_attribute, action.on_no_consent) == (
        ",",
        "cp.consent_marketing",
        "opt_out",
    )
    assert action.spec("web").decimal_separator == ","
    defaults = parse_actions(document(decimal_separator=None, on_no_consent=None))["purchase"]
    assert (defaults.decimal_separator, defaults.consent_attribute, defaults.on_no_consent) == (".", None, "skip")


def test_every_guide_parameter_can_be_mapped():
    mappings = {field: f"attr_{field}" for field in MAPPABLE_FIELDS}
    assert parse_actions(document(mappings=mappings))["purchase"].mappings == mappings
    hash_columns = {
        f"{name}{suffix}"
        for name in ("email", "phone", "external_id", "first_name", "last_name")
        for suffix in ("", "_sha256")
    }
    assert hash_columns | {"id", "timestamp_ms", "oppref", "source_url", "action_source", "opt_out"} <= MAPPABLE_FIELDS
    assert {"country", "region", "city", "zip", "android_advertising_id", "obref"} <= MAPPABLE_FIELDS
    assert {"external_id_raw", "ip_address", "user_agent"} <= MAPPABLE_FIELDS
    assert {"amount", "currency", "plan_id", "contents"} <= MAPPABLE_FIELDS


@pytest.mark.parametrize("key, raw", [("country_sha256", "country"), ("city_sha256", "city"), ("zip_sha256", "zip")])
def test_an_already_hashed_geo_mapping_is_refused_naming_the_action_and_the_raw_field(key, raw):
    with pytest.raises(ConfigError) as refused:
        parse_actions(document(mappings={"email": "customer_email", key: "customer_hashed_geo"}))
    message = str(refused.value)
    assert message.startswith(f"actions.purchase.mappings.{key}: OpenAI no longer takes hashed {raw} values")
    assert f'map the raw attribute to "{raw}" instead' in message


CUSTOM = {"event_type": "custom", "custom_event_name": "up"}


def test_custom_data_maps_properties_for_custom_events():
    action = parse_actions(
        document(event_type="custom", custom_event_name="upgrade", custom_data={"plan_tier": " tier ", "seats": "n"})
    )["purchase"]
    assert action.custom_data == {"plan_tier": "tier", "seats": "n"}


@pytest.mark.parametrize(
    "entry, message",
    [
        (CUSTOM | {"custom_data": {"amount": "a"}}, "custom_data.amount: is a reserved data field"),
        (CUSTOM | {"custom_data": {"type": "a"}}, "custom_data.type: is a reserved data field"),
        (CUSTOM | {"custom_data": {"contents": "a"}}, "custom_data.contents: is a reserved data field"),
        (CUSTOM | {"custom_data": {"tier": ""}}, "custom_data.tier: must name a Tealium attribute"),
        (CUSTOM | {"custom_data": ["tier"]}, "custom_data: must be an object"),
        (CUSTOM | {"custom_data": {" ": "a"}}, "custom_data: a property name must not be empty"),
        ({"event_type": "order_created", "custom_data": {"tier": "a"}}, "custom_data: only custom events"),
    ],
)
def test_a_bad_custom_data_map_is_refused_naming_the_action_and_the_property(entry, message):
    with pytest.raises(ConfigError, match=re.escape(f"actions.purchase.{message}")):
        parse_actions(document(**entry))


@pytest.mark.parametrize(
    "display, event_type",
    [
        ("Order Created", "order_created"),
        ("Page Viewed", "page_viewed"),
        (" appointment scheduled ", "appointment_scheduled"),
        ("Trial Started", "trial_started"),
    ],
)
def test_display_names_from_the_guide_are_accepted(display, event_type):
    assert parse_actions(document(event_type=display))["purchase"].event_type == event_type


def test_custom_event_with_a_valid_name():
    action = parse_actions(document(event_type="Custom", custom_event_name="newsletter_signup-2"))["purchase"]
    assert (action.event_type, action.custom_event_name) == ("custom", "newsletter_signup-2")


def test_custom_event_name_is_ignored_for_other_types():
    assert parse_actions(document(custom_event_name="!!not valid!!"))["purchase"].custom_event_name is None


@pytest.mark.parametrize(
    "entry, names",
    [
        ({"colour": "red"}, ["actions.purchase.colour", "unknown key"]),
        ({"mappings": {"emial": "customer_email"}}, ["actions.purchase.mappings.emial", "unknown field"]),
        ({"mappings": {"email": ""}}, ["actions.purchase.mappings.email"]),
        ({"mappings": {"email": 5}}, ["actions.purchase.mappings.email"]),
        ({"mappings": ["email"]}, ["actions.purchase.mappings"]),
        ({"event_type": "purchase"}, ["actions.purchase.event_type"]),
        ({"event_type": None}, ["actions.purchase.event_type"]),
        ({"event_type": "custom"}, ["actions.purchase.custom_event_name", "required"]),
        ({"event_type": "custom", "custom_event_name": ""}, ["actions.purchase.custom_event_name", "required"]),
        ({"event_type": "custom", "custom_event_name": "has space"}, ["actions.purchase.custom_event_name"]),
        ({"event_type": "custom", "custom_event_name": "_leading"}, ["actions.purchase.custom_event_name"]),
        ({"event_type": "custom", "custom_event_name": "x" * 65}, ["actions.purchase.custom_event_name"]),
        (
            {"event_type": "custom", "custom_event_name": "order_created"},
            ["actions.purchase.custom_event_name", "standard"],
        ),
        ({"event_type": "custom", "custom_event_name": "custom"}, ["actions.purchase.custom_event_name", "standard"]),
        ({"action_source": "tv"}, ["actions.purchase.action_source"]),
        ({"action_source": "Web"}, ["actions.purchase.action_source"]),
        ({"delivery": "eventually"}, ["actions.purchase.delivery"]),
        ({"delivery": None}, ["actions.purchase.delivery"]),
        ({"debug": "true"}, ["actions.purchase.debug"]),
        ({"debug": 1}, ["actions.purchase.debug"]),
        ({"disable_automapping": "yes"}, ["actions.purchase.disable_automapping"]),
        ({"pixel_id": ""}, ["actions.purchase.pixel_id"]),
        ({"decimal_separator": ";"}, ["actions.purchase.decimal_separator", "must be one of ., ,"]),
        ({"decimal_separator": "comma"}, ["actions.purchase.decimal_separator"]),
        ({"consent_attribute": ""}, ["actions.purchase.consent_attribute"]),
        ({"consent_attribute": True}, ["actions.purchase.consent_attribute"]),
        ({"on_no_consent": "drop"}, ["actions.purchase.on_no_consent", "skip, opt_out"]),
        ({"pixel_id": 123}, ["actions.purchase.pixel_id"]),
        ({"api_key_secret_id": "  "}, ["actions.purchase.api_key_secret_id"]),
    ],
)
def test_a_malformed_action_fails_at_load_naming_the_action_and_the_field(entry, names):
    with pytest.raises(ConfigError) as refused:
        parse_actions(document(**entry))
    for name in names:
        assert name in str(refused.value)


def test_a_missing_delivery_is_named():
    with pytest.raises(ConfigError, match=r"actions\.purchase\.delivery"):
        parse_actions(json.dumps({"actions": {"purchase": {"event_type": "page_viewed"}}}))


@pytest.mark.parametrize(
    "key", ["sk-proj-AbCdEf0123456789", "  sk-live-AbCdEf0123456789", "Bearer sk-AbCdEf0123456789"]
)
def test_an_api_key_in_the_secret_reference_is_refused_without_repeating_it(key):
    with pytest.raises(ConfigError) as refused:
        parse_actions(document(api_key_secret_id=key))
    message = str(refused.value)
    assert "actions.purchase.api_key_secret_id" in message
    assert "AbCdEf0123456789" not in message


@pytest.mark.parametrize(
    "reference", ["openai-key-eu", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:openai-eu-AbCdEf"]
)
def test_a_secret_reference_is_accepted(reference):
    assert parse_actions(document(api_key_secret_id=reference))["purchase"].api_key_secret_id == reference


@pytest.mark.parametrize(
    "text, names",
    [
        (
            '{"actions": {"a": {"delivery": "realtime", "event_type": "page_viewed"}}, "version": 2}',
            ["version", "unknown key"],
        ),
        ("{}", ["actions document"]),
        ('{"actions": {}}', ["actions document", "no action"]),
        ('{"actions": []}', ["actions document"]),
        ("[]", ["actions document"]),
        ("{not json", ["actions document", "not valid JSON"]),
        ('{"actions": {"purchase": "order_created"}}', ["actions.purchase", "object"]),
    ],
)
def test_a_malformed_document_fails_at_load_naming_what_is_wrong(text, names):
    with pytest.raises(ConfigError) as refused:
        parse_actions(text)
    for name in names:
        assert name in str(refused.value)


def test_an_unreadable_file_names_actions_config(tmp_path):
    with pytest.raises(ConfigError, match="ACTIONS_CONFIG"):
        load_actions(tmp_path / "missing.json")


def test_load_actions_reads_a_file(tmp_path):
    path = tmp_path / "actions.json"
    path.write_text(document(), encoding="utf-8")
    assert set(load_actions(path)) == {"purchase"}
    assert set(load_actions(BUNDLED_ACTIONS)) == set(bundled_actions())


def test_route_prefers_the_action_overrides():
    action = parse_actions(document(pixel_id="px_override", api_key_secret_id="key-override", debug=True))["purchase"]
    assert action.route("px_default", "key-default", "https://bzr.openai.com") == Route(
        "px_override", "key-override", True, "https://bzr.openai.com"
    )
    plain = parse_actions(document())["purchase"]
    assert plain.route("px_default", "key-default", "https://b") == Route(
        "px_default", "key-default", False, "https://b"
    )


def test_spec_carries_the_action_and_the_connector_defaults():
    action = parse_actions(document(event_type="custom", custom_event_name="signup", action_source="email"))["purchase"]
    assert action.spec("web") == EventSpec("custom", "signup", "email", "web")


def test_app_event_with_a_fixed_non_mobile_action_source_fails_at_load():
    document = {"actions": {"install": {"delivery": "realtime", "event_type": "app_installed", "action_source": "web"}}}
    with pytest.raises(ConfigError, match=r"^actions\.install\.action_source: app_installed .* mobile_app only"):
        parse_actions(json.dumps(document))


# ---- consent categories and the query parameters a source URL keeps --------------------------------


def test_consent_categories_and_kept_query_parameters_are_read():
    action = parse_actions(
        document(
            consent_attribute="cp.CONSENTMGR",
            consent_categories=["display_ads", "c1", "Display_Ads"],
            keep_query_parameters=["utm_source", "gclid"],
        )
    )["purchase"]
    assert action.consent_categories == (3, 1)
    assert action.keep_query_parameters == ("utm_source", "gclid")
    assert action.spec("web").kept_query_parameters == frozenset({"utm_source", "gclid"})


def test_by_default_a_source_url_keeps_the_utm_campaign_parameters():
    action = parse_actions(document())["purchase"]
    assert action.consent_categories == ()
    assert action.spec("web").kept_query_parameters == frozenset(
        {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}
    )
    assert parse_actions(document(keep_query_parameters=[]))["purchase"].spec("web").kept_query_parameters == set()


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            {"consent_attribute": "cp.CONSENTMGR", "consent_categories": ["display_add"]},
            'actions.purchase.consent_categories: unknown category "display_add"; did you mean "display_ads"?',
        ),
        (
            {"consent_attribute": "cp.CONSENTMGR", "consent_categories": ["c100"]},
            'actions.purchase.consent_categories: unknown category "c100"',
        ),
        (
            {"consent_attribute": "cp.CONSENTMGR", "consent_categories": []},
            "actions.purchase.consent_categories: must be a non-empty list of Tealium consent categories",
        ),
        (
            {"consent_attribute": "cp.CONSENTMGR", "consent_categories": "display_ads"},
            "actions.purchase.consent_categories: must be a non-empty list of Tealium consent categories",
        ),
        (
            {"consent_categories": ["display_ads"]},
            "actions.purchase.consent_categories: needs consent_attribute",
        ),
        ({"keep_query_parameters": "utm_source"}, "actions.purchase.keep_query_parameters: must be a list"),
        ({"keep_query_parameters": ["utm source"]}, "actions.purchase.keep_query_parameters: must be a list"),
        ({"keep_query_parameters": ["a&b"]}, "actions.purchase.keep_query_parameters: must be a list"),
    ],
)
def test_bad_consent_categories_and_kept_parameters_are_refused_at_load(entry, message):
    with pytest.raises(ConfigError) as err:
        parse_actions(document(**entry))
    assert str(err.value).startswith(message)
