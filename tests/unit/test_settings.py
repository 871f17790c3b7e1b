"""settings: the environment read once, a bad value failing at cold start with the variable's name."""

from __future__ import annotations

import pytest
from connector.core.errors import ConfigError
from connector.core.settings import Settings, check_base_url


def test_defaults_from_an_empty_environment():
    assert Settings.from_env({}) == Settings(
        pixel_id=None,
        default_action_source="web",
        base_url="https://bzr.openai.com",
        api_key_secret_id=None,
        queue_url=None,
        dead_letter_queue_url=None,
        actions_config=None,
        integration_source="tealium-openai-connector-aws",
        api_key_max_age_seconds=300,
        max_receive_count=5,
    )


def test_every_variable_is_read_and_trimmed():
    settings = Settings.from_env(
        {
            "PIXEL_ID": " px_123 ",
            "DEFAULT_ACTION_SOURCE": "offline",
            "BASE_URL": "https://sandbox.bzr.openai.com/",
            "API_KEY_SECRET_ID": "openai-key",
            "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
            "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/dlq",
            "ACTIONS_CONFIG": "/opt/actions.json",
            "INTEGRATION_SOURCE": " acme.tealium_bridge-2 ",
            "API_KEY_MAX_AGE_SECONDS": "60",
            "MAX_RECEIVE_COUNT": "3",
        }
    )
    assert settings == Settings(
        "px_123", "offline", "https://sandbox.bzr.openai.com", "openai-key",
        "https://sqs.eu-west-1.amazonaws.com/1/q", "https://sqs.eu-west-1.amazonaws.com/1/dlq",
        "/opt/actions.json", "acme.tealium_bridge-2", 60, 3,
    )  # fmt: skip


def test_blank_variables_count_as_unset():
    settings = Settings.from_env({"PIXEL_ID": "  ", "BASE_URL": "", "GEO_FORMAT": " ", "DEFAULT_ACTION_SOURCE": ""})
    assert (settings.pixel_id, settings.base_url, settings.default_action_source) == (
        None, "https://bzr.openai.com", "web",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["plain", "sha256"])
def test_a_set_geo_format_fails_at_cold_start_saying_why(value):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"GEO_FORMAT": value})
    assert str(refused.value).startswith("GEO_FORMAT: is no longer supported")
    assert "raw" in str(refused.value)


@pytest.mark.parametrize(
    "value, expected",
    [("", None), ("   ", None), ("a", "a"), ("A" * 64, "A" * 64), ("0.x_y-z", "0.x_y-z")],
)
def test_integration_source_can_be_changed_or_emptied_to_omit_it(value, expected):
    assert Settings.from_env({"INTEGRATION_SOURCE": value}).integration_source == expected


@pytest.mark.parametrize("value", ["-acme", ".acme", "A" * 65, "acme tealium", "acmé", "acme/aws"])
def test_an_invalid_integration_source_fails_at_cold_start(value):
    with pytest.raises(ConfigError, match=r"^INTEGRATION_SOURCE: must be 1-64 ASCII"):
        Settings.from_env({"INTEGRATION_SOURCE": value})


def test_from_env_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("PIXEL_ID", "px_env")
    monkeypatch.delenv("BASE_URL", raising=False)
    assert Settings.from_env().pixel_id == "px_env"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://bzr.openai.com", "https://bzr.openai.com"),
        ("https://staging.example.com:8443/", "https://staging.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_base_url_https_or_loopback_http(url, expected):
    assert Settings.from_env({"BASE_URL": url}).base_url == expected
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://bzr.openai.com",
        "http://10.0.0.5:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "ftp://bzr.openai.com",
        "bzr.openai.com",
        "https://",
        "https://[::1",
    ],
)
def test_base_url_that_is_not_https_or_loopback_is_refused_by_name(url):
    with pytest.raises(ConfigError, match=r"^BASE_URL: "):
        Settings.from_env({"BASE_URL": url})


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DEFAULT_ACTION_SOURCE", "tv"),
        ("DEFAULT_ACTION_SOURCE", "Web"),
        ("GEO_FORMAT", "md5"),
        ("API_KEY_MAX_AGE_SECONDS", "0"),
        ("API_KEY_MAX_AGE_SECONDS", "3601"),
        ("API_KEY_MAX_AGE_SECONDS", "five"),
        ("API_KEY_MAX_AGE_SECONDS", "-5"),
        ("API_KEY_MAX_AGE_SECONDS", "1.5"),
        ("API_KEY_MAX_AGE_SECONDS", "²"),
        ("MAX_RECEIVE_COUNT", "0"),
        ("REALTIME_BUDGET_SECONDS", "0"),
        ("REALTIME_BUDGET_SECONDS", "26"),
        ("REALTIME_BUDGET_SECONDS", "12s"),
        ("REALTIME_BUDGET_SECONDS", "4.5"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(variable, value):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({variable: value})
    assert str(refused.value).startswith(f"{variable}: ")


@pytest.mark.parametrize("source", ["web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other"])
def test_every_action_source_is_a_valid_default(source):
    assert Settings.from_env({"DEFAULT_ACTION_SOURCE": source}).default_action_source == source


@pytest.mark.parametrize(
    "url", ["https://bzr.openai.com?x=1", "https://bzr.openai.com/#frag", "https://user:pw@bzr.openai.com"]
)
def test_base_url_with_query_fragment_or_credentials_is_refused(url):
    with pytest.raises(ConfigError, match=r"^BASE_URL: must be a plain base URL"):
        Settings.from_env({"BASE_URL": url})


def test_the_realtime_budget_defaults_well_under_tealiums_10_s_webhook_timeout():
    # Tealium's webhook connector waits 1-10 s: the caller must have its answer before it gives up and resends.
    assert Settings.from_env({}).realtime_budget_seconds == 5
    assert Settings.from_env({"REALTIME_BUDGET_SECONDS": " 8 "}).realtime_budget_seconds == 8
    assert Settings.from_env({"REALTIME_BUDGET_SECONDS": "25"}).realtime_budget_seconds == 25
