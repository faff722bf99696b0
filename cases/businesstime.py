"""Business-time arithmetic: deadlines and elapsed time counted in opening hours only.

Everything here is pure computation on a :class:`CalendarSpec`, a frozen snapshot of a
``BusinessCalendar`` with its weekly hours and exceptions. Load the snapshot once (two queries)
and reuse it for a whole batch of cases; nothing below touches the database.

Three rules keep the arithmetic honest:

* **Wall clock in, UTC out.** Opening hours are local wall-clock times, but a day is not always
  24 hours long (Europe/Stockholm has a 23-hour day in March and a 25-hour day in October).
  Each wall time is turned into an aware instant with ``zoneinfo`` and every comparison and
  subtraction happens in UTC. Python subtracts two datetimes that share a ``tzinfo`` by their
  wall clocks, ignoring the offset, which would miscount exactly those two nights; that is why
  every datetime returned from this module is in UTC. Use ``.astimezone(spec.tz)`` to show it.
* **Half-open intervals.** An open interval ``[opens, closes)`` includes its opening moment and
  excludes its closing moment, so touching intervals never count a moment twice and
  ``business_time_between(a, b) + business_time_between(b, c) == business_time_between(a, c)``.
* **Day by day, never minute by minute.** Loops step one local date at a time and take whole
  intervals, so a year of arithmetic is a few hundred cheap iterations.

A day's hours come from, in order of precedence: a ``CalendarException`` for that date (no
intervals = closed), then the national holidays (closed), then the weekly hours. An exception
therefore also opens a holiday, e.g. a phone line staffed on Christmas Eve.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from cases.models import BusinessCalendar

__all__ = [
    "END_OF_DAY",
    "MAX_CLOSED_DAYS",
    "CalendarSpec",
    "add_business_time",
    "business_time_between",
    "is_open",
    "next_opening",
    "open_intervals",
]

Country = Literal["SE", "DK"]
WallInterval = tuple[dt.time, dt.time]
Interval = tuple[dt.datetime, dt.datetime]

UTC = dt.UTC

#: A ``closes`` of ``time.max`` (23:59:59.999999) means "until midnight": a ``TimeField``
#: cannot hold 24:00, and a round-the-clock line must not lose a microsecond a night.
END_OF_DAY = dt.time.max

#: How far the search for the next open moment may run before the calendar is declared
#: "never open". Without a bound a calendar with no hours would loop forever.
MAX_CLOSED_DAYS = 366 * 3

_DEFAULT_HOURS: tuple[WallInterval, ...] = ((dt.time(8), dt.time(17)),)


@dataclass(frozen=True)
class CalendarSpec:
    """An immutable snapshot of a business calendar, safe to share between threads and tasks.

    ``weekly`` maps a weekday (0 = Monday .. 6 = Sunday) to its open intervals in local wall
    time; a missing weekday is closed. ``exceptions`` maps a date to its intervals and wins over
    holidays and weekly hours; an empty tuple means closed that day.
    """

    tz: ZoneInfo
    country: Country
    eves_closed: bool
    weekly: dict[int, tuple[WallInterval, ...]] = field(default_factory=dict)
    exceptions: dict[dt.date, tuple[WallInterval, ...]] = field(default_factory=dict)

    @classmethod
    def from_calendar(cls, cal: BusinessCalendar) -> CalendarSpec:
        """Snapshot ``cal`` with its hours and exceptions.

        Goes through ``cal.hours.all()`` and ``cal.exceptions.all()`` (two queries) so that a
        caller who loaded many calendars with ``prefetch_related("hours", "exceptions")`` pays
        no query at all here.
        """
        weekly: dict[int, list[WallInterval]] = {}
        for hours in cal.hours.all():
            weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        exceptions: dict[dt.date, tuple[WallInterval, ...]] = {}
        for exc in cal.exceptions.all():
            if exc.opens is None or exc.closes is None:
                exceptions[exc.date] = ()
            else:
                exceptions[exc.date] = ((exc.opens, exc.closes),)
        return cls(
            tz=ZoneInfo(cal.timezone),
            country=cal.country,  # type: ignore[arg-type]  # constrained by Country choices
            eves_closed=cal.eves_closed,
            weekly={day: tuple(sorted(intervals)) for day, intervals in weekly.items()},
            exceptions=exceptions,
        )

    @classmethod
    def default(cls, country: Country = "SE", tz: str = "Europe/Stockholm") -> CalendarSpec:
        """Monday to Friday 08:00-17:00, eves closed: for a department without a calendar."""
        return cls(
            tz=ZoneInfo(tz),
            country=country,
            eves_closed=True,
            weekly=dict.fromkeys(range(5), _DEFAULT_HOURS),
        )


@functools.lru_cache(maxsize=256)
def _holiday_dates(country: Country, eves_closed: bool, year: int) -> frozenset[dt.date]:
    """Closed days of one year. Cached: building a ``holidays`` object is far slower than a lookup.

    Sweden: the public holidays, plus the "de facto" days (midsommarafton, julafton,
    nyårsafton) that the Annual Leave Act treats like Sundays. ``include_sundays=False`` is
    passed explicitly because the package can count every Sunday as a Swedish holiday; weekends
    are the weekly hours' business, not the holiday list's.
    Denmark: the public holidays, plus the "optional" days (juleaften, nytårsaften,
    grundlovsdag, 1 May) that municipal offices close on.
    """
    days: holidays.HolidayBase
    if country == "SE":
        categories = ("public", "de_facto") if eves_closed else ("public",)
        days = holidays.Sweden(years=year, categories=categories, include_sundays=False)
    elif country == "DK":
        categories = ("public", "optional") if eves_closed else ("public",)
        days = holidays.Denmark(years=year, categories=categories)
    else:
        raise ValueError(f"Unsupported calendar country: {country!r}")
    return frozenset(days.keys())


def _wall_to_utc(day: dt.date, wall: dt.time, tz: ZoneInfo, *, closing: bool) -> dt.datetime:
    """The UTC instant at which a wall clock in ``tz`` shows ``wall`` on ``day``.

    A time skipped when clocks spring forward (02:30 on the last Sunday of March) is pushed
    forward by the gap, to 03:30. A time shown twice when clocks fall back (02:30 on the last
    Sunday of October) opens at its first occurrence and closes at its second, so an interval
    that covers the repeated hour covers it both times.
    """
    if closing and wall == END_OF_DAY:
        return _wall_to_utc(day + dt.timedelta(days=1), dt.time(0), tz, closing=False)
    naive = dt.datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if not closing:
        return first
    # fold=1 is the second occurrence of a repeated time. In a gap both folds name instants
    # that the wall clock never shows; the later of the two is the pushed-forward one.
    return max(first, naive.replace(tzinfo=tz, fold=1).astimezone(UTC))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort, drop empty and merge overlapping intervals so that no moment is counted twice."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
            continue
        merged.append((start, end))
    return merged


def _wall_intervals(spec: CalendarSpec, day: dt.date) -> tuple[WallInterval, ...]:
    if day in spec.exceptions:
        return spec.exceptions[day]
    if day in _holiday_dates(spec.country, spec.eves_closed, day.year):
        return ()
    return spec.weekly.get(day.weekday(), ())


def open_intervals(spec: CalendarSpec, day: dt.date) -> list[Interval]:
    """The half-open intervals ``[opens, closes)`` of local date ``day``, as UTC datetimes.

    Sorted and non-overlapping. Empty when the day is closed (weekend, holiday, exception).
    """
    return _merge(
        (
            _wall_to_utc(day, opens, spec.tz, closing=False),
            _wall_to_utc(day, closes, spec.tz, closing=True),
        )
        for opens, closes in _wall_intervals(spec, day)
    )


def _require_aware(moment: dt.datetime, name: str) -> dt.datetime:
    # A naive datetime has no instant; guessing a zone would shift deadlines by an hour or two.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _intervals_from(spec: CalendarSpec, moment: dt.datetime) -> Iterable[Interval]:
    """Open intervals ending after ``moment``, in order, clipped to start no earlier than it.

    Raises ``ValueError`` after ``MAX_CLOSED_DAYS`` consecutive days without an open moment.
    """
    day = moment.astimezone(spec.tz).date()
    closed_days = 0
    while closed_days <= MAX_CLOSED_DAYS:
        found = False
        for start, end in open_intervals(spec, day):
            if end <= moment:
                continue
            found = True
            yield max(start, moment), end
        closed_days = 0 if found else closed_days + 1
        day += dt.timedelta(days=1)
    raise ValueError(f"Calendar has no open time within {MAX_CLOSED_DAYS} days of {moment}")


def is_open(spec: CalendarSpec, moment: dt.datetime) -> bool:
    """Whether ``moment`` lies inside an open interval (the closing moment itself is closed)."""
    moment = _require_aware(moment, "moment")
    day = moment.astimezone(spec.tz).date()
    return any(start <= moment < end for start, end in open_intervals(spec, day))


def next_opening(spec: CalendarSpec, moment: dt.datetime) -> dt.datetime:
    """The first open moment at or after ``moment`` (``moment`` itself if open), in UTC."""
    moment = _require_aware(moment, "moment")
    start, _end = next(iter(_intervals_from(spec, moment)))
    return start


def add_business_time(spec: CalendarSpec, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The moment, in UTC, at which ``amount`` of open time has elapsed since ``start``.

    Counting begins at ``start`` if open, else at the next opening. A deadline that uses up an
    interval exactly lands on its closing moment (Monday 08:00 + 9 h is Monday 17:00, not
    Tuesday 08:00). ``amount`` zero returns ``start`` itself, even outside opening hours: no
    time is owed, so nothing should wait for the next opening. Negative amounts are refused.
    """
    start = _require_aware(start, "start")
    if amount < dt.timedelta(0):
        raise ValueError("amount must not be negative")
    if not amount:
        return start
    remaining = amount
    for opens, closes in _intervals_from(spec, start):
        available = closes - opens
        if remaining <= available:
            return opens + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_from raises rather than ends")


def business_time_between(spec: CalendarSpec, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Open time inside ``[a, b)``; negative when ``b`` is before ``a``.

    The inverse of :func:`add_business_time`: ``between(s, add(s, x)) == x``.
    """
    a = _require_aware(a, "a")
    b = _require_aware(b, "b")
    if b < a:
        return -business_time_between(spec, b, a)
    total = dt.timedelta(0)
    day = a.astimezone(spec.tz).date()
    last = b.astimezone(spec.tz).date()
    while day <= last:
        for opens, closes in open_intervals(spec, day):
            overlap = min(closes, b) - max(opens, a)
            if overlap > dt.timedelta(0):
                total += overlap
        day += dt.timedelta(days=1)
    return total
