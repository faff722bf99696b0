"""Identity numbers, phone numbers and e-mail addresses: what is accepted and how it is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from stdnum.se import personnummer

from cases.identity import (
    normalize_email,
    normalize_org_number,
    normalize_personal_id,
    normalize_phone,
    personal_id_birth_date,
)


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit, computed here independently of the code under test.

    From the right of the payload, every other digit (starting with the rightmost) is doubled
    and 9 subtracted when the result exceeds 9; the check digit tops the sum up to a multiple
    of 10.
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def danish_modulus_11(cpr: str) -> int:
    return sum(w * int(d) for w, d in zip((4, 3, 2, 7, 6, 5, 4, 3, 2, 1), cpr, strict=True)) % 11


def error_code(func, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as excinfo:
        func(*args, **kwargs)
    return excinfo.value.code


# --- Swedish personnummer ------------------------------------------------------------------


def test_the_luhn_helper_agrees_with_a_known_personnummer():
    # Doubling 8,1,1,9,7 gives 16,2,2,18,14 -> 7+2+2+9+5 = 25; plus 1,2,8,8 = 19; 44 -> 6.
    assert luhn_check_digit("811218987") == "6"


@pytest.mark.parametrize(
    "typed",
    ["811218-9876", "8112189876", "19811218-9876", "198112189876", " 811218 9876 "],
)
def test_a_swedish_personnummer_is_stored_as_twelve_digits(typed):
    assert normalize_personal_id(typed, country="SE") == "198112189876"


def test_a_plus_puts_a_ten_digit_personnummer_in_the_previous_century():
    # Given a centenarian's number written with "+", the birth year is 1881, not 1981.
    assert normalize_personal_id("811218+9876", country="SE") == "188112189876"


def test_it_rejects_a_personnummer_with_a_bad_check_digit():
    assert error_code(normalize_personal_id, "811218-9877", country="SE") == "invalid_checksum"


@pytest.mark.parametrize("typed", ["811332-9876", "810230-9876", "811200-9876"])
def test_it_rejects_a_personnummer_with_an_impossible_date(typed):
    assert error_code(normalize_personal_id, typed, country="SE") == "invalid_date"


@pytest.mark.parametrize("typed", ["", "81121-9876", "abcdef-1234", "811218--9876", "8112189"])
def test_it_rejects_a_malformed_personnummer_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as excinfo:
        normalize_personal_id(typed, country="SE")
    assert excinfo.value.code == "invalid_format"
    assert excinfo.value.messages == [
        "Enter a valid Swedish personal identity number (YYYYMMDD-NNNN)."
    ]


def test_it_rejects_a_birth_date_in_the_future():
    number = "20991218-987" + luhn_check_digit("991218987")
    assert error_code(normalize_personal_id, number, country="SE") == "future_date"


def test_a_ten_digit_number_is_not_placed_in_the_future(time_machine):
    # Given today is 2026-06-01: "26" means 2026, so 261231 (later this year) is refused,
    # while "27" cannot be 2027 and means 1927.
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
    later_this_year = "261231-123" + luhn_check_digit("261231123")
    assert error_code(normalize_personal_id, later_this_year, country="SE") == "future_date"
    born_1927 = "270101-123" + luhn_check_digit("270101123")
    assert normalize_personal_id(born_1927, country="SE") == "19270101123" + born_1927[-1]


# --- Swedish samordningsnummer --------------------------------------------------------------


def test_a_samordningsnummer_is_accepted_and_keeps_its_plus_60_day():
    # Given 3 October 1970 written as day 63; check digit computed here: 701063239 -> 1.
    assert luhn_check_digit("701063239") == "1"
    assert not personnummer.is_valid("701063-2391")  # why cases.identity checks it itself
    assert normalize_personal_id("701063-2391", country="SE") == "197010632391"
    assert normalize_personal_id("19701063-2391", country="SE") == "197010632391"


def test_a_samordningsnummer_with_a_bad_check_digit_is_rejected():
    assert error_code(normalize_personal_id, "701063-2392", country="SE") == "invalid_checksum"


def test_a_samordningsnummer_whose_real_day_is_impossible_is_rejected():
    # Day 92 is the 32nd.
    number = "701092-239" + luhn_check_digit("701092239")
    assert error_code(normalize_personal_id, number, country="SE") == "invalid_date"


@pytest.mark.parametrize(
    ("stored", "country", "born"),
    [
        ("198112189876", "SE", dt.date(1981, 12, 18)),
        ("197010632391", "SE", dt.date(1970, 10, 3)),
        ("2110620629", "DK", dt.date(1962, 10, 21)),
        # The CPR century is in the serial: first digit 5-8 with year 58-99 means the 1800s.
        ("2110625629", "DK", dt.date(1862, 10, 21)),
    ],
)
def test_it_reads_the_birth_date_of_a_stored_number(stored, country, born):
    assert personal_id_birth_date(stored, country) == born


# --- Danish CPR ----------------------------------------------------------------------------


def test_a_danish_cpr_is_stored_as_ten_digits():
    assert normalize_personal_id("211062-5629", country="DK") == "2110625629"
    assert normalize_personal_id("2110625629", country="DK") == "2110625629"


def test_a_cpr_failing_modulus_11_is_accepted_when_its_date_is_valid():
    # Since 2007 CPR numbers are issued without a valid modulus-11 check.
    assert danish_modulus_11("2110625628") != 0
    assert normalize_personal_id("211062-5628", country="DK") == "2110625628"


def test_it_rejects_a_cpr_with_an_invalid_date():
    with pytest.raises(ValidationError) as excinfo:
        normalize_personal_id("320261-1234", country="DK")
    assert excinfo.value.code == "invalid_date"
    assert excinfo.value.messages == ["The Danish CPR number does not contain a valid birth date."]


def test_it_rejects_a_cpr_born_in_the_future():
    # Serial digit 4 with year 30 means 2030.
    assert error_code(normalize_personal_id, "010130-4000", country="DK") == "invalid_date"


@pytest.mark.parametrize("typed", ["21106256", "211062-56290", "21a062-5629"])
def test_it_rejects_a_malformed_cpr(typed):
    assert error_code(normalize_personal_id, typed, country="DK") == "invalid_format"


def test_it_rejects_an_unsupported_country():
    assert error_code(normalize_personal_id, "811218-9876", country="NO") == "unsupported_country"


# --- Organisation numbers ------------------------------------------------------------------


def test_a_swedish_organisation_number_is_stored_as_digits():
    assert luhn_check_digit("556012579") == "0"
    assert normalize_org_number("556012-5790", country="SE") == "5560125790"


def test_it_rejects_a_swedish_organisation_number_with_a_bad_check_digit():
    assert error_code(normalize_org_number, "556012-5791", country="SE") == "invalid_checksum"


def test_it_rejects_a_malformed_swedish_organisation_number():
    assert error_code(normalize_org_number, "556012-579", country="SE") == "invalid_format"


def test_a_danish_cvr_number_is_stored_as_eight_digits():
    # 1*2 + 3*7 + 5*6 + 8*5 + 5*4 + 6*3 + 2*2 + 8*1 = 143 = 13 * 11: the checksum holds.
    assert normalize_org_number("DK 13 58 56 28", country="DK") == "13585628"


def test_it_rejects_a_danish_cvr_number_with_a_bad_checksum():
    assert error_code(normalize_org_number, "13585627", country="DK") == "invalid_checksum"


# --- Phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("070-123 45 67", None, "+46701234567"),
        ("0046 70 123 45 67", None, "+46701234567"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("+45 32 12 34 56", None, "+4532123456"),
        ("20 12 34 56", "DK", "+4520123456"),
    ],
)
def test_a_phone_number_is_stored_in_e164(typed, region, e164):
    assert normalize_phone(typed, region=region) == e164


def test_the_default_region_comes_from_settings(settings):
    settings.DEFAULT_PHONE_REGION = "DK"
    assert normalize_phone("20 12 34 56") == "+4520123456"


@pytest.mark.parametrize("typed", ["", "abc", "070-123", "+46 70 123 45 67 89 01"])
def test_it_rejects_a_phone_number_that_cannot_be_dialled(typed):
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(typed, region="SE")
    assert excinfo.value.code == "invalid_phone"
    assert excinfo.value.messages == [
        "Enter a valid phone number, e.g. 070-123 45 67 or +45 32 12 34 56."
    ]


# --- E-mail --------------------------------------------------------------------------------


def test_an_email_address_is_stripped_and_lower_cased():
    assert normalize_email("  Anna.Svensson@Example.SE \n") == "anna.svensson@example.se"


@pytest.mark.parametrize("typed", ["", "   ", "anna", "anna@", "anna@example", "a b@example.se"])
def test_it_rejects_an_invalid_email_address(typed):
    assert error_code(normalize_email, typed) == "invalid_email"
