"""Time for the demo history: integer epoch seconds, a day table, office hours, formatting.

The generator works on plain ``int`` epoch seconds (UTC) because creating millions of aware
``datetime`` objects is what makes a Python seeder slow; rows get timestamps as
``"YYYY-MM-DD HH:MM:SS"`` UTC text, which both PostgreSQL (Django keeps the session in UTC)
and Django's SQLite backend read back as the intended instant.

Business-hour arithmetic here is a deliberately small stand-in (one office calendar, holidays
from the ``holidays`` package plus the Swedish eves) so deadlines look right; the product's own
business-time code is what runs live.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import time
import zoneinfo

import holidays
from dateutil.easter import easter

DAY = 86400
HOUR = 3600


def _hm(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * HOUR + int(minutes) * 60


def bridge_day(year: int) -> datetime.date:
    """The Friday after Ascension Day (Easter + 39 days, always a Thursday)."""
    return easter(year) + datetime.timedelta(days=40)


def swedish_closed_days(years: range, *, eves: bool = True) -> set[datetime.date]:
    """Public holidays in Sweden, plus the eves that are de-facto days off."""
    days = set(holidays.country_holidays("SE", years=list(years)).keys())
    if eves:
        for year in years:
            days.add(datetime.date(year, 12, 24))
            days.add(datetime.date(year, 12, 31))
            midsummer = next(
                d
                for d in days
                if d.year == year and d.month == 6 and 20 <= d.day <= 26 and d.weekday() == 5
            )
            days.add(midsummer - datetime.timedelta(days=1))
    return days


class Clock:
    """A table of local days from ``first_day`` on, with UTC midnights and office hours.

    ``office_hours`` maps weekday to (opens, closes) as "HH:MM"; days in ``closed`` or missing
    from it are closed; ``short_days`` maps a date to its own (opens, closes).
    """

    def __init__(
        self,
        *,
        first_day: datetime.date,
        last_day: datetime.date,
        tz: str,
        office_hours: dict[int, tuple[str, str]],
        closed: set[datetime.date],
        short_days: dict[datetime.date, tuple[str, str]],
        horizon_days: int = 400,
    ) -> None:
        zone = zoneinfo.ZoneInfo(tz)
        self.first_day = first_day
        self.n_days = (last_day - first_day).days + 1
        self.dates: list[datetime.date] = []
        self.midnights: list[int] = []
        self.open_days: list[bool] = []
        self.office: list[tuple[int, int] | None] = []
        for i in range(self.n_days + horizon_days):
            day = first_day + datetime.timedelta(days=i)
            noon = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            offset = int(noon.utcoffset().total_seconds())  # type: ignore[union-attr]
            midnight = calendar.timegm(day.timetuple()) - offset
            hours = short_days.get(day) or office_hours.get(day.weekday())
            is_open = hours is not None and day not in closed
            self.dates.append(day)
            self.midnights.append(midnight)
            self.open_days.append(is_open)
            self.office.append(
                (midnight + _hm(hours[0]), midnight + _hm(hours[1])) if is_open else None
            )
        # Lookup tables for fmt(): a date prefix per UTC day, "HH:MM:SS" per second of a day.
        self._base = self.midnights[0] // DAY - 90
        self._prefixes = [
            time.strftime("%Y-%m-%d ", time.gmtime((self._base + i) * DAY))
            for i in range(len(self.midnights) + 100)
        ]
        self._hms = _seconds_of_day()

    def day_index(self, epoch: int) -> int:
        """Index of the local day ``epoch`` falls on."""
        return bisect.bisect_right(self.midnights, epoch) - 1

    def add_business(self, epoch: int, seconds: float) -> int:
        """``epoch`` plus ``seconds`` of office time (closed days and nights do not count)."""
        left = int(seconds)
        d = self.day_index(epoch)
        t = epoch
        office = self.office
        last = len(office) - 1
        while d < last:
            hours = office[d]
            if hours is not None:
                start = t if t > hours[0] else hours[0]
                if start < hours[1]:
                    available = hours[1] - start
                    if left <= available:
                        return start + left
                    left -= available
            d += 1
            t = self.midnights[d]
        return t + left

    def business_between(self, a: int, b: int) -> int:
        """Seconds of office time between ``a`` and ``b``."""
        total = 0
        d = self.day_index(a)
        last = min(self.day_index(b), len(self.office) - 1)
        while d <= last:
            hours = self.office[d]
            if hours is not None:
                start, stop = max(a, hours[0]), min(b, hours[1])
                if stop > start:
                    total += stop - start
            d += 1
        return total

    def office_time(self, epoch: int, offset: float) -> int:
        """``epoch`` if the office is open then, else the next opening plus ``offset`` (0-1) of that day."""
        d = self.day_index(epoch)
        hours = self.office[d]
        if hours is not None and hours[0] <= epoch < hours[1]:
            return epoch
        if hours is not None and epoch < hours[0]:
            return hours[0] + int(offset * (hours[1] - hours[0]))
        d += 1
        while d < len(self.office) - 1 and self.office[d] is None:
            d += 1
        hours = self.office[d] or (self.midnights[d] + 8 * HOUR, self.midnights[d] + 16 * HOUR)
        return hours[0] + int(offset * (hours[1] - hours[0]))

    def iso(self, epoch: int) -> str:
        """ISO 8601 in UTC, as ``datetime.isoformat()`` writes it into event data."""
        return f"{self.fmt(epoch).replace(' ', 'T')}+00:00"

    def fmt(self, epoch: int) -> str:
        """UTC text for a timestamp column: ``YYYY-MM-DD HH:MM:SS``."""
        d, s = divmod(epoch, DAY)
        i = d - self._base
        if 0 <= i < len(self._prefixes):
            return self._prefixes[i] + self._hms[s]
        return time.strftime("%Y-%m-%d ", time.gmtime(d * DAY)) + self._hms[s]


_HMS: list[str] = []


def _seconds_of_day() -> list[str]:
    """ "HH:MM:SS" for every second of a day (built once; formatting is the seeder's hot spot)."""
    if not _HMS:
        _HMS.extend(
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        )
    return _HMS
