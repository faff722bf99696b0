"""Business time: deadlines counted in opening hours, across weekends, holidays and DST.

Expected values are worked out by hand in each test; 2026-01-12 is a Monday.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from cases.businesstime import (
    END_OF_DAY,
    CalendarSpec,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
    open_intervals,
)
from cases.models import BusinessCalendar, CalendarException, OpeningHours

STOCKHOLM = ZoneInfo("Europe/Stockholm")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
UTC = dt.UTC
H = dt.timedelta(hours=1)


def se(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def dk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN)


def weekdays(*intervals: tuple[dt.time, dt.time]) -> dict[int, tuple[tuple[dt.time, dt.time], ...]]:
    return dict.fromkeys(range(5), intervals)


def every_day(
    *intervals: tuple[dt.time, dt.time],
) -> dict[int, tuple[tuple[dt.time, dt.time], ...]]:
    return dict.fromkeys(range(7), intervals)


def swedish(**overrides: object) -> CalendarSpec:
    """Mon-Fri 08-17 in Stockholm, eves closed, unless overridden."""
    fields: dict[str, object] = {
        "tz": STOCKHOLM,
        "country": "SE",
        "eves_closed": True,
        "weekly": weekdays((dt.time(8), dt.time(17))),
    }
    fields.update(overrides)
    return CalendarSpec(**fields)  # type: ignore[arg-type]


def danish(**overrides: object) -> CalendarSpec:
    return swedish(tz=COPENHAGEN, country="DK", **overrides)


def total(intervals: list[tuple[dt.datetime, dt.datetime]]) -> dt.timedelta:
    return sum((end - start for start, end in intervals), dt.timedelta(0))


# --- Counting within the week ------------------------------------------------------------


def test_it_counts_hours_within_one_day():
    # Given Monday 09:00, when 3 business hours are added, then it is Monday 12:00.
    assert add_business_time(swedish(), se(2026, 1, 12, 9), 3 * H) == se(2026, 1, 12, 12)


def test_it_lands_on_closing_time_when_the_day_is_used_up_exactly():
    # 08:00 + 9 h is 17:00 the same day, not 08:00 the next morning.
    assert add_business_time(swedish(), se(2026, 1, 12, 8), 9 * H) == se(2026, 1, 12, 17)


def test_it_skips_the_weekend():
    # Friday 15:00 + 4 h: 2 h on Friday, the other 2 h on Monday from 08:00.
    assert add_business_time(swedish(), se(2026, 1, 16, 15), 4 * H) == se(2026, 1, 19, 10)


def test_it_returns_utc_so_that_arithmetic_on_the_result_is_safe():
    result = add_business_time(swedish(), se(2026, 1, 12, 9), H)
    assert result.tzinfo is UTC
    assert result == dt.datetime(2026, 1, 12, 9, tzinfo=UTC)  # 10:00 CET


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(se(2026, 1, 17, 12), se(2026, 1, 19, 9), id="saturday-noon"),
        pytest.param(se(2026, 1, 12, 6), se(2026, 1, 12, 9), id="monday-before-opening"),
        pytest.param(se(2026, 1, 13, 20), se(2026, 1, 14, 9), id="tuesday-evening"),
        pytest.param(se(2026, 1, 13, 17), se(2026, 1, 14, 9), id="at-closing-moment"),
    ],
)
def test_it_starts_counting_at_the_next_opening_when_started_outside_hours(start, expected):
    assert add_business_time(swedish(), start, H) == expected


def test_it_returns_the_start_unchanged_for_zero_even_outside_hours():
    saturday = se(2026, 1, 17, 12)
    assert add_business_time(swedish(), saturday, dt.timedelta(0)) == saturday


def test_it_counts_around_a_lunch_break():
    spec = swedish(weekly=weekdays((dt.time(8), dt.time(12)), (dt.time(13), dt.time(16))))
    # Monday 11:00 + 2 h: 1 h before lunch, 1 h after it.
    assert add_business_time(spec, se(2026, 1, 12, 11), 2 * H) == se(2026, 1, 12, 14)
    assert business_time_between(spec, se(2026, 1, 12, 11), se(2026, 1, 12, 14)) == 2 * H
    assert not is_open(spec, se(2026, 1, 12, 12, 30))
    assert next_opening(spec, se(2026, 1, 12, 12, 30)) == se(2026, 1, 12, 13)
    assert total(open_intervals(spec, dt.date(2026, 1, 12))) == 7 * H


def test_it_counts_overlapping_intervals_once():
    spec = swedish(weekly=weekdays((dt.time(8), dt.time(12)), (dt.time(10), dt.time(14))))
    assert open_intervals(spec, dt.date(2026, 1, 12)) == [(se(2026, 1, 12, 8), se(2026, 1, 12, 14))]


# --- Holidays ------------------------------------------------------------------------------


def test_it_skips_epiphany():
    # Tuesday 2026-01-06 is Trettondedag jul: Monday 16:00 + 2 h ends Wednesday 09:00.
    assert add_business_time(swedish(), se(2026, 1, 5, 16), 2 * H) == se(2026, 1, 7, 9)


def test_it_skips_ascension_day():
    # Thursday 2026-05-14 is Kristi himmelsfärds dag.
    assert add_business_time(swedish(), se(2026, 5, 13, 16), 2 * H) == se(2026, 5, 15, 9)


def test_it_does_not_treat_ordinary_sundays_as_holidays():
    # Given a line open every day, Sunday 2026-01-11 (no holiday) has its full 9 hours.
    spec = swedish(weekly=every_day((dt.time(8), dt.time(17))))
    assert total(open_intervals(spec, dt.date(2026, 1, 11))) == 9 * H


def test_it_skips_midsummer_eve_when_eves_are_closed():
    # Friday 2026-06-19 is midsommarafton, Saturday 06-20 midsommardagen.
    assert add_business_time(swedish(), se(2026, 6, 18, 16), 2 * H) == se(2026, 6, 22, 9)


def test_it_opens_on_midsummer_eve_when_eves_are_not_closed():
    spec = swedish(eves_closed=False)
    assert add_business_time(spec, se(2026, 6, 18, 16), 2 * H) == se(2026, 6, 19, 9)


def test_it_skips_christmas_eve_only_when_eves_are_closed():
    christmas_eve = dt.date(2026, 12, 24)  # a Thursday
    assert open_intervals(swedish(), christmas_eve) == []
    assert total(open_intervals(swedish(eves_closed=False), christmas_eve)) == 9 * H


def test_a_deadline_spans_christmas_and_new_year():
    # Given Wednesday 2026-12-23 08:00 and 40 business hours.
    # Open: 23rd (9 h, 31 left), 28th (9, 22), 29th (9, 13), 30th (9, 4).
    # Closed: 24th-27th (eve, Christmas, weekend), 31st (eve), 1 Jan (holiday), 2-3 Jan.
    # Then Monday 2027-01-04 08:00 + 4 h.
    start = se(2026, 12, 23, 8)
    deadline = add_business_time(swedish(), start, 40 * H)
    assert deadline == se(2027, 1, 4, 12)
    assert business_time_between(swedish(), start, deadline) == 40 * H


def test_a_deadline_over_christmas_comes_sooner_when_eves_are_open():
    # 23rd (31 left), 24th (22), 28th (13), 29th (4), then 30th 08:00 + 4 h.
    spec = swedish(eves_closed=False)
    assert add_business_time(spec, se(2026, 12, 23, 8), 40 * H) == se(2026, 12, 30, 12)


def test_maundy_thursday_is_closed_in_denmark_and_open_in_sweden():
    # Wednesday 2026-04-01 16:00 + 2 h. Sweden: Thursday 04-02 is a working day.
    assert add_business_time(swedish(), se(2026, 4, 1, 16), 2 * H) == se(2026, 4, 2, 9)
    # Denmark: skærtorsdag, langfredag, the weekend and 2. påskedag are all closed.
    assert add_business_time(danish(), dk(2026, 4, 1, 16), 2 * H) == dk(2026, 4, 7, 9)


def test_it_skips_grundlovsdag_in_denmark_when_eves_are_closed():
    # Friday 2026-06-05 is Grundlovsdag; Sweden's national day (06-06) is a Saturday.
    assert add_business_time(danish(), dk(2026, 6, 4, 16), 2 * H) == dk(2026, 6, 8, 9)
    eves_open = danish(eves_closed=False)
    assert add_business_time(eves_open, dk(2026, 6, 4, 16), 2 * H) == dk(2026, 6, 5, 9)
    assert add_business_time(swedish(), se(2026, 6, 4, 16), 2 * H) == se(2026, 6, 5, 9)


def test_a_whole_swedish_year_has_251_working_days():
    # 2026 has 261 weekdays. Ten fall on holidays or eves: 1 Jan, 6 Jan, 3 Apr, 6 Apr, 1 May,
    # 14 May, 19 Jun, 24 Dec, 25 Dec, 31 Dec. 251 days x 9 h = 2259 h.
    started = time.perf_counter()
    counted = business_time_between(swedish(), se(2026, 1, 1), se(2027, 1, 1))
    elapsed = time.perf_counter() - started
    assert counted == 2259 * H
    assert elapsed < 0.5  # day-by-day iteration; a minute loop would take seconds


# --- Calendar exceptions -------------------------------------------------------------------


def test_an_exception_closes_an_ordinary_day():
    spec = swedish(exceptions={dt.date(2026, 1, 14): ()})
    # Tuesday 16:00 + 2 h: 1 h on Tuesday, Wednesday closed, 1 h on Thursday.
    assert add_business_time(spec, se(2026, 1, 13, 16), 2 * H) == se(2026, 1, 15, 9)


def test_an_exception_gives_special_hours():
    spec = swedish(exceptions={dt.date(2026, 1, 14): ((dt.time(10), dt.time(12)),)})
    # Tuesday 16:00 + 3 h: 1 h on Tuesday, then 10:00-12:00 on Wednesday.
    assert add_business_time(spec, se(2026, 1, 13, 16), 3 * H) == se(2026, 1, 14, 12)


def test_an_exception_opens_a_holiday():
    spec = swedish(exceptions={dt.date(2026, 1, 6): ((dt.time(10), dt.time(14)),)})
    assert open_intervals(spec, dt.date(2026, 1, 6)) == [(se(2026, 1, 6, 10), se(2026, 1, 6, 14))]


# --- Daylight saving time ------------------------------------------------------------------


def test_a_round_the_clock_line_has_23_hours_on_the_spring_forward_day():
    spec = swedish(weekly=every_day((dt.time(0), END_OF_DAY)))
    assert total(open_intervals(spec, dt.date(2026, 3, 28))) == 24 * H
    assert total(open_intervals(spec, dt.date(2026, 3, 29))) == 23 * H
    assert business_time_between(spec, se(2026, 3, 29), se(2026, 3, 30)) == 23 * H


def test_a_round_the_clock_line_has_25_hours_on_the_fall_back_day():
    spec = swedish(weekly=every_day((dt.time(0), END_OF_DAY)))
    assert total(open_intervals(spec, dt.date(2026, 10, 25))) == 25 * H
    assert business_time_between(spec, se(2026, 10, 25), se(2026, 10, 26)) == 25 * H


def test_adding_across_the_spring_forward_night_counts_real_hours():
    spec = swedish(weekly=every_day((dt.time(0), END_OF_DAY)))
    # Saturday 22:00 CET is 21:00 UTC; 5 real hours later is 02:00 UTC, 04:00 CEST on the wall.
    deadline = add_business_time(spec, se(2026, 3, 28, 22), 5 * H)
    assert deadline == dt.datetime(2026, 3, 29, 2, tzinfo=UTC)
    assert deadline.astimezone(STOCKHOLM).hour == 4


def test_adding_across_the_fall_back_night_counts_real_hours():
    spec = swedish(weekly=every_day((dt.time(0), END_OF_DAY)))
    # Saturday 22:00 CEST is 20:00 UTC; 5 h later is 01:00 UTC, the second 02:00 (CET).
    deadline = add_business_time(spec, se(2026, 10, 24, 22), 5 * H)
    assert deadline == dt.datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert deadline.astimezone(STOCKHOLM).utcoffset() == H


def test_an_eight_to_five_day_stays_nine_hours_on_dst_days():
    spec = swedish(weekly=every_day((dt.time(8), dt.time(17))))
    # 08:00 CEST = 06:00 UTC on 29 March; 08:00 CET = 07:00 UTC on 25 October.
    assert open_intervals(spec, dt.date(2026, 3, 29)) == [
        (dt.datetime(2026, 3, 29, 6, tzinfo=UTC), dt.datetime(2026, 3, 29, 15, tzinfo=UTC))
    ]
    assert open_intervals(spec, dt.date(2026, 10, 25)) == [
        (dt.datetime(2026, 10, 25, 7, tzinfo=UTC), dt.datetime(2026, 10, 25, 16, tzinfo=UTC))
    ]


def test_crossing_a_dst_night_while_closed_counts_nothing():
    spec = swedish(weekly=every_day((dt.time(8), dt.time(17))))
    assert business_time_between(spec, se(2026, 3, 28, 17), se(2026, 3, 29, 8)) == dt.timedelta(0)
    assert business_time_between(spec, se(2026, 10, 24, 17), se(2026, 10, 25, 8)) == dt.timedelta(0)
    # Saturday 16:00 + 2 h: 1 h on Saturday, then Sunday 08:00 CEST + 1 h.
    assert add_business_time(spec, se(2026, 3, 28, 16), 2 * H) == se(2026, 3, 29, 9)


def test_a_night_interval_is_as_long_as_the_clocks_make_it():
    spec = swedish(weekly=every_day((dt.time(1), dt.time(4))))
    # Spring: 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC) is 2 h.
    assert total(open_intervals(spec, dt.date(2026, 3, 29))) == 2 * H
    # Autumn: 01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC) is 4 h.
    assert total(open_intervals(spec, dt.date(2026, 10, 25))) == 4 * H


def test_an_opening_in_the_skipped_hour_is_pushed_forward():
    spec = swedish(weekly=every_day((dt.time(2, 30), dt.time(5))))
    # 02:30 does not exist on 29 March; the clock shows 03:30 CEST (01:30 UTC) instead.
    assert open_intervals(spec, dt.date(2026, 3, 29)) == [
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), dt.datetime(2026, 3, 29, 3, tzinfo=UTC))
    ]


def test_a_closing_in_the_repeated_hour_is_its_second_occurrence():
    spec = swedish(weekly=every_day((dt.time(1), dt.time(2, 30))))
    # 01:00 CEST (23:00 UTC) to the second 02:30, in CET (01:30 UTC): 2.5 h.
    assert total(open_intervals(spec, dt.date(2026, 10, 25))) == dt.timedelta(hours=2, minutes=30)


# --- is_open, next_opening, between ---------------------------------------------------------


def test_opening_moment_is_open_and_closing_moment_is_not():
    assert is_open(swedish(), se(2026, 1, 12, 8))
    assert is_open(swedish(), se(2026, 1, 12, 16, 59))
    assert not is_open(swedish(), se(2026, 1, 12, 17))
    assert not is_open(swedish(), se(2026, 1, 17, 12))


def test_next_opening_is_the_moment_itself_when_open():
    assert next_opening(swedish(), se(2026, 1, 12, 10)) == se(2026, 1, 12, 10)
    assert next_opening(swedish(), se(2026, 1, 16, 17)) == se(2026, 1, 19, 8)


@pytest.mark.parametrize(
    "start",
    [se(2026, 1, 12, 9, 17), se(2026, 1, 17, 3), se(2026, 12, 22, 16), se(2026, 3, 27, 12)],
)
@pytest.mark.parametrize(
    "amount", [dt.timedelta(minutes=1), 9 * H, 40 * H, dt.timedelta(hours=500, minutes=7)]
)
def test_between_is_the_inverse_of_add(start, amount):
    deadline = add_business_time(swedish(), start, amount)
    assert business_time_between(swedish(), start, deadline) == amount


def test_between_is_negative_when_the_end_comes_first():
    a, b = se(2026, 1, 16, 15), se(2026, 1, 19, 10)
    assert business_time_between(swedish(), a, b) == 4 * H
    assert business_time_between(swedish(), b, a) == -4 * H


def test_between_counts_nothing_over_a_weekend():
    assert business_time_between(
        swedish(), se(2026, 1, 16, 17), se(2026, 1, 19, 8)
    ) == dt.timedelta(0)


# --- Refusals ------------------------------------------------------------------------------


def test_it_refuses_a_calendar_that_never_opens():
    with pytest.raises(ValueError, match="no open time"):
        add_business_time(swedish(weekly={}), se(2026, 1, 12), H)


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(swedish(), dt.datetime(2026, 1, 12, 9), H)


def test_it_refuses_negative_amounts():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(swedish(), se(2026, 1, 12, 9), -H)


# --- Building a spec -----------------------------------------------------------------------


def test_the_default_spec_is_weekdays_eight_to_five_with_eves_closed():
    spec = CalendarSpec.default()
    assert spec.tz == STOCKHOLM
    assert spec.country == "SE"
    assert spec.eves_closed is True
    assert spec.weekly == weekdays((dt.time(8), dt.time(17)))
    assert spec.exceptions == {}
    assert CalendarSpec.default(country="DK", tz="Europe/Copenhagen").tz == COPENHAGEN


@pytest.fixture
def calendar_in_db():
    cal = BusinessCalendar.objects.create(
        name="Kontaktcenter", country="SE", timezone="Europe/Stockholm", eves_closed=False
    )
    OpeningHours.objects.create(calendar=cal, weekday=0, opens=dt.time(13), closes=dt.time(16))
    OpeningHours.objects.create(calendar=cal, weekday=0, opens=dt.time(8), closes=dt.time(12))
    OpeningHours.objects.create(calendar=cal, weekday=2, opens=dt.time(9), closes=dt.time(15))
    CalendarException.objects.create(calendar=cal, date=dt.date(2026, 1, 14))
    CalendarException.objects.create(
        calendar=cal, date=dt.date(2026, 1, 21), opens=dt.time(10), closes=dt.time(11)
    )
    return cal


@pytest.mark.django_db
def test_from_calendar_snapshots_hours_and_exceptions_in_two_queries(
    calendar_in_db, django_assert_num_queries
):
    cal = BusinessCalendar.objects.get(pk=calendar_in_db.pk)
    with django_assert_num_queries(2):
        spec = CalendarSpec.from_calendar(cal)
    assert spec == CalendarSpec(
        tz=STOCKHOLM,
        country="SE",
        eves_closed=False,
        weekly={
            0: ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(16))),
            2: ((dt.time(9), dt.time(15)),),
        },
        exceptions={
            dt.date(2026, 1, 14): (),
            dt.date(2026, 1, 21): ((dt.time(10), dt.time(11)),),
        },
    )


@pytest.mark.django_db
def test_from_calendar_uses_prefetched_hours_without_queries(
    calendar_in_db, django_assert_num_queries
):
    cal = BusinessCalendar.objects.prefetch_related("hours", "exceptions").get(pk=calendar_in_db.pk)
    with django_assert_num_queries(0):
        spec = CalendarSpec.from_calendar(cal)
    assert open_intervals(spec, dt.date(2026, 1, 21)) == [
        (se(2026, 1, 21, 10), se(2026, 1, 21, 11))
    ]
