"""normalize: the normalization and hashing rules of docs/wire-contract.md for user identifiers."""

from __future__ import annotations

import re
import string

import pytest
from connector.core import normalize
from connector.core.errors import InvalidValue
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.core import (
    EMAIL_ADA_SHA256,
    EMAIL_USER_SHA256,
    EXTERNAL_ID_CUSTOMER_123_SHA256,
    EXTERNAL_ID_SHA256,
    FIRST_NAME_JOSE_SHA256,
    FIRST_NAME_MARY_JANE_SHA256,
    LAST_NAME_OCONNOR_SHA256,
    LAST_NAME_STEFANESCU_SHA256,
    PHONE_RO_SHA256,
    PHONE_SF_SHA256,
    PHONE_UK_SHA256,
    PHONE_US_SHA256,
)

SHA256_HEX = re.compile(r"[0-9a-f]{64}")

# ---- the test vectors of docs/wire-contract.md -----------------------------------------------------


@pytest.mark.parametrize(
    "field, raw, normalized, digest",
    [
        ("email", " USER@EXAMPLE.COM ", "user@example.com", EMAIL_USER_SHA256),
        ("email", " Ada@Example.COM ", "ada@example.com", EMAIL_ADA_SHA256),
        ("phone", "+1 (415) 555-2671", "14155552671", PHONE_SF_SHA256),
        ("phone", "001 (555) 123-4567", "15551234567", PHONE_US_SHA256),
        ("phone", "+40 746 123 456", "40746123456", PHONE_RO_SHA256),
        ("phone", "+00 44 (0)20 7946 0958", "4402079460958", PHONE_UK_SHA256),
        ("external_id", "  CUST-00042  ", "CUST-00042", EXTERNAL_ID_SHA256),
        ("external_id", "customer_123", "customer_123", EXTERNAL_ID_CUSTOMER_123_SHA256),
        ("external_id_raw", "  CUST-00042  ", "CUST-00042", EXTERNAL_ID_SHA256),
        ("first_name", "Mary Jane", "maryjane", FIRST_NAME_MARY_JANE_SHA256),
        ("last_name", "O'Connor", "oconnor", LAST_NAME_OCONNOR_SHA256),
        ("first_name", "José", "josé", FIRST_NAME_JOSE_SHA256),
        ("last_name", "Ștefănescu", "ștefănescu", LAST_NAME_STEFANESCU_SHA256),
    ],
)
def test_contract_vectors(field, raw, normalized, digest):
    assert normalize.BEFORE_HASH[field](raw) == normalized
    assert normalize.sha256_hex(normalized) == digest
    assert normalize.hash_identifier(field, raw) == digest


def test_phone_with_an_extension_is_refused_not_stripped_into_another_number():
    with pytest.raises(InvalidValue):
        normalize.normalize_phone("+1 (555) 123-4567 ext. 89")
    with pytest.raises(InvalidValue):
        normalize.hash_identifier("phone", "+1 (555) 123-4567 ext. 89")


@pytest.mark.parametrize(
    "raw",
    ["1234567", "1234567890123456", "555-CALL-NOW", "+1 555 123 4567 #2", "++40746123456", "000", "12/345/678"],
)
def test_phone_outside_8_to_15_digits_or_with_other_characters_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize.normalize_phone(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12345678", "12345678"),
        ("123456789012345", "123456789012345"),
        (40746123456, "40746123456"),
        ("0.40.746.123.456", "40746123456"),
    ],
)
def test_phone_accepts_8_to_15_digits_after_separators(raw, expected):
    assert normalize.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["not-an-email", "a@b@c", "two words@example.com", "@", "a@"])
def test_email_must_be_one_address(raw):
    with pytest.raises(InvalidValue):
        normalize.normalize_email(raw)


def test_geo_values_have_no_hashed_form_any_more():
    # OpenAI: "Send geographic values as raw strings."
    assert {"country", "region", "city", "zip"}.isdisjoint(normalize.BEFORE_HASH)
    with pytest.raises(KeyError):
        normalize.hash_identifier("country", "US")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Anne-Marie  ", "annemarie"),
        ("D'Angelo\tSmith", "dangelosmith"),
        ("ZOË", "zoë"),
        ("Łukasz", "łukasz"),
        ("李 小龍", "李小龍"),
        ("J.R.R.", "jrr"),
        ("Mary\u00a0Jane", "maryjane"),  # a no-break space is whitespace too
    ],
)
def test_names_lose_whitespace_and_ascii_punctuation_and_keep_other_letters(raw, expected):
    assert normalize.normalize_name(raw) == expected


@pytest.mark.parametrize("raw", ["  ", "-'.", 1.5, None, ["Ann"]])
def test_a_name_with_nothing_left_or_not_text_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize.normalize_name(raw)


def test_external_id_keeps_its_case():
    assert normalize.hash_identifier("external_id", "Cust-42") != normalize.hash_identifier("external_id", "cust-42")


# ---- pre-hashed values and values that look hashed -----------------------------------


def test_prehashed_value_is_trimmed_lowercased_and_never_hashed_again():
    # GIVEN a digest sent in upper case with blanks around it
    raw = f"  {EMAIL_USER_SHA256.upper()} "
    # WHEN it is checked
    # THEN it comes back as the same digest, not the hash of the digest
    assert normalize.check_prehashed(raw) == EMAIL_USER_SHA256


@pytest.mark.parametrize("raw", ["user@example.com", EMAIL_USER_SHA256[:-1], EMAIL_USER_SHA256 + "0", "g" * 64, ""])
def test_prehashed_value_that_is_not_a_digest_is_refused(raw):
    with pytest.raises(InvalidValue):
        normalize.check_prehashed(raw)


@pytest.mark.parametrize("field", normalize.HASHABLE_FIELDS)
def test_raw_value_that_already_looks_like_a_hash_is_reported_not_rehashed(field):
    with pytest.raises(InvalidValue, match=f"{field.removesuffix('_raw')}_sha256"):
        normalize.hash_identifier(field, f" {EMAIL_USER_SHA256.upper()} ")


# ---- plain geo forms, IP, user agent -----------------------------------------------


@pytest.mark.parametrize(
    "field, raw, expected",
    [
        ("country", " us ", "US"),
        ("country", "Ro", "RO"),
        ("city", "  New   York ", "new york"),
        ("city", "SÃO PAULO", "são paulo"),
        ("city", "x" * 128, "x" * 128),
        ("zip", " 10001 ", "10001"),
        ("zip", "SW1A 1AA", "SW1A 1AA"),
        ("zip", "12345-6789", "12345-6789"),
        ("zip", "75008 (Paris)", "75008 Paris"),
        ("zip", 10001, "10001"),
        ("zip", "9" * 32, "9" * 32),
        ("ip_address", " 203.0.113.42 ", "203.0.113.42"),
        ("ip_address", "2001:DB8:0:0::7", "2001:db8::7"),
        ("user_agent", " Mozilla/5.0 ", "Mozilla/5.0"),
        ("region", "  Île-de-France ", "île-de-france"),
        ("android_advertising_id", " 38400000-8CF0-11BD-B23E-10B96E40000D ", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("obref", " ob.1.AbC== ", " ob.1.AbC== "),
    ],
)
def test_plain_forms(field, raw, expected):
    assert normalize.normalize_plain(field, raw) == expected


@pytest.mark.parametrize(
    "field, raw",
    [
        ("country", "USA"),
        ("country", "U"),
        ("country", "1A"),
        ("country", "ÜS"),
        ("city", "x" * 129),
        ("zip", "9" * 33),
        ("zip", "---"),
        ("zip", "@#!"),
        ("ip_address", "256.1.1.1"),
        ("ip_address", "example.com"),
        ("ip_address", 3232235777),
        ("user_agent", "   "),
        ("region", "x" * 129),
        ("android_advertising_id", "00000000-0000-0000-0000-000000000000"),
        ("android_advertising_id", "38400000-8cf0-11bd-b23e"),
        ("android_advertising_id", "38400000-8cf0-11bd-b23e-10b96e40000g"),
        ("obref", "  "),
        ("obref", 12),
        ("obref", "x" * 8193),
    ],
)
def test_plain_forms_refuse_invalid_values(field, raw):
    with pytest.raises(InvalidValue):
        normalize.normalize_plain(field, raw)


@pytest.mark.parametrize("raw", [None, True, 1.5, [], {}, ["a@b.co"], {"email": "a@b.co"}, "", "   ", "x" * 1025])
@pytest.mark.parametrize("field", normalize.HASHABLE_FIELDS)
def test_non_text_empty_or_overlong_input_is_an_invalid_value(field, raw):
    with pytest.raises(InvalidValue):
        normalize.hash_identifier(field, raw)


@pytest.mark.parametrize("field", normalize.HASHABLE_FIELDS)
def test_text_with_an_unpaired_surrogate_is_an_invalid_value_not_a_crash(field):
    # json.loads('"\\ud800"') gives such a string; it has no UTF-8 encoding to hash
    with pytest.raises(InvalidValue):
        normalize.hash_identifier(field, "\ud800 1a")


def test_an_integer_too_long_to_print_is_an_invalid_value_not_a_crash():
    with pytest.raises(InvalidValue):
        normalize.normalize_external_id(10**5000)


def test_reasons_never_repeat_the_value():
    secret = "+1 (555) 123-4567 ext. 89"
    with pytest.raises(InvalidValue) as refused:
        normalize.normalize_phone(secret)
    assert "555" not in str(refused.value)


# ---- properties ---------------------------------------------------------------------

NORMALIZERS = {
    **{f"before_hash:{name}": rule for name, rule in normalize.BEFORE_HASH.items()},
    **{f"plain:{name}": rule for name, rule in normalize.PLAIN.items()},
    "check_prehashed": normalize.check_prehashed,
}

#: What each normalizer may emit, whatever it is given.
VALID_OUTPUT = {
    "before_hash:email": re.compile(r"[^@\s]+@[^@\s]+"),
    "before_hash:phone": re.compile(r"[1-9][0-9]{7,14}"),
    "plain:android_advertising_id": re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"),
    "plain:country": re.compile(r"[A-Z]{2}"),
    "plain:city": re.compile(r"\S(?:.{0,126}\S)?"),
    "plain:zip": re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9 \-]{1,32}"),
    "check_prehashed": SHA256_HEX,
}

PHONE_LIKE = st.from_regex(r"\+?[0-9 ().\-]{0,24}", fullmatch=True)
EMAIL_LIKE = st.from_regex(r"\s*[A-Za-z0-9.+_İ-]{1,20}@[A-Za-z0-9.-]{1,20}\s*", fullmatch=True)
GEO_LIKE = st.from_regex(r"\s*[A-Za-z0-9 \-]{0,40}\s*", fullmatch=True)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
ANY_INPUT = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
#: Text JSON can decode but UTF-8 cannot encode (an unpaired surrogate from a "\\ud800" escape).
SURROGATE_TEXT = st.builds(lambda a, b: f"{a}{chr(0xD800)}{b}", st.text(max_size=5), EMAIL_LIKE)
INPUTS = (
    ANY_INPUT
    | SURROGATE_TEXT
    | PHONE_LIKE
    | EMAIL_LIKE
    | GEO_LIKE
    | st.sampled_from(["  CUST-00042  ", "::1", "10.0.0.1", EMAIL_USER_SHA256])
)


def _outcome(rule, raw):
    try:
        return rule(raw)
    except InvalidValue:
        return None


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(NORMALIZERS)), raw=INPUTS)
@example(name="before_hash:email", raw="İ" * 700 + "@x.io")
@example(name="plain:zip", raw=" - ")
@example(name="before_hash:external_id_raw", raw=10**5000)
@example(name="before_hash:first_name", raw="İ" * 1000)
@example(name="before_hash:email", raw="\ud800x@example.com")
@example(name="plain:user_agent", raw="Mozilla \udfff")
def test_normalizers_raise_only_invalid_value_are_idempotent_and_emit_valid_values(name, raw):
    rule = NORMALIZERS[name]
    # WHEN a normalizer is given anything at all, THEN it answers or raises InvalidValue (nothing else)
    output = _outcome(rule, raw)
    if output is None:
        return
    # THEN its output is a valid value of the field...
    assert isinstance(output, str) and output
    if name != "plain:obref":  # obref passes through unchanged, blanks and all
        assert output == output.strip()
    if name in VALID_OUTPUT:
        assert VALID_OUTPUT[name].fullmatch(output), output
    # ...and normalizing the output again changes nothing
    assert rule(output) == output


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(normalize.HASHABLE_FIELDS), raw=INPUTS)
def test_hash_identifier_emits_a_lowercase_sha256_or_raises_invalid_value(field, raw):
    digest = _outcome(lambda value: normalize.hash_identifier(field, value), raw)
    if digest is not None:
        assert SHA256_HEX.fullmatch(digest)
        assert digest == normalize.sha256_hex(normalize.BEFORE_HASH[field](raw))


@settings(max_examples=200, deadline=None)
@given(raw=PHONE_LIKE)
def test_phone_output_is_8_to_15_digits_without_a_leading_zero(raw):
    digits = _outcome(normalize.normalize_phone, raw)
    if digits is not None:
        assert digits.isdigit() and 8 <= len(digits) <= 15 and not digits.startswith("0")
        # only separators were removed: the digits are the input's digits, in order, minus leading zeros
        assert digits == re.sub(r"[^0-9]", "", raw).lstrip("0")


NAME_LIKE = st.from_regex(r"\s*[A-Za-zÀ-ÿĂăȘșȚțİ' .\-]{0,30}\s*", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(raw=NAME_LIKE | st.text() | ANY_INPUT)
def test_the_name_normalizer_raises_only_invalid_value_is_idempotent_and_emits_no_whitespace_or_punctuation(raw):
    name = _outcome(normalize.normalize_name, raw)
    if name is not None:
        assert not any(c.isspace() or c in string.punctuation for c in name)
        assert name == name.lower()
        assert normalize.normalize_name(name) == name


def _phone_by_the_rule(text: str) -> str | None:
    """docs/wire-contract.md's phone rule, spelled out with the regexes alone (no shortcut)."""
    digits = normalize.PHONE_SEPARATORS.sub("", text.strip()).removeprefix("+").lstrip("0")
    return digits if normalize.PHONE_DIGITS.fullmatch(digits) else None


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="0123456789 -().+\t\u00a0\u2003x#٣", max_size=22))
def test_phone_numbers_follow_the_rule_whatever_their_separators(text):
    # The usual separators are removed without the regex: any text reads as the rule reads it
    expected = _phone_by_the_rule(text)
    try:
        assert normalize.normalize_phone(text) == expected
    except InvalidValue:
        assert expected is None
