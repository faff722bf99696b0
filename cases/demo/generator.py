"""The demo history, day by day: how many contacts, on which channels, at what time, about what.

Volume follows weekdays, holidays and the season; the channel mix moves linearly from the
first day's mix to the last day's (the channel shift a channel strategy asks for); phone, chat,
visits and letters happen in opening hours, digital channels around the clock. Exactly
``n_contacts`` contacts are produced: each day has a cumulative target and every case is
told how many contacts are still allowed. Only ``random.Random(seed)`` is used, and sets are
never iterated, so the same seed and end date give the same rows.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from itertools import accumulate

from cases.demo import benchcase, texts
from cases.demo.catalogue import SEASONS
from cases.demo.clock import DAY, HOUR, Clock
from cases.demo.configure import CategoryVersion, Setup
from cases.demo.lifecycle import Lifecycle
from cases.demo.people import Residents
from cases.demo.rand import below, between
from cases.demo.recorder import Buffers

CHANNELS = ["phone", "visit", "letter", "email", "eservice", "chat", "sms", "social", "video"]
MIX_FIRST = [48, 12, 3, 18, 12, 4, 2, 0.7, 0.3]
MIX_LAST = [34, 7, 1.5, 16.5, 25, 10, 3, 2, 1]
OPEN_ONLY = frozenset({"phone", "visit", "letter", "chat", "video"})
OFFICE_ONLY = frozenset({"visit", "letter"})
WEEKDAY_VOLUME = [1.25, 1.1, 1.0, 0.95, 0.8, 0.15, 0.12]
MONTH_VOLUME = [1.1, 1.05, 1.05, 1.0, 1.0, 0.9, 0.6, 0.95, 1.05, 1.05, 1.0, 0.8]
STAFF_HOURS = list(range(8, 17))
STAFF_HOUR_WEIGHTS = [12, 16, 15, 12, 8, 11, 11, 9, 6]
DIGITAL_HOUR_WEIGHTS = [
    1,
    0.5,
    0.3,
    0.3,
    0.4,
    0.8,
    2,
    4,
    6,
    7,
    7,
    6.5,
    6,
    6.5,
    6,
    5.5,
    5,
    5,
    5.5,
    6,
    6,
    5,
    3.5,
    2,
]
ANONYMOUS = {
    "phone": 0.3,
    "visit": 0.35,
    "chat": 0.45,
    "social": 0.6,
    "video": 0.0,
    "letter": 0.05,
    "email": 0.03,
    "eservice": 0.05,
    "sms": 0.02,
}
SPAMMY = frozenset({"email", "social", "sms", "eservice"})
WORD_SHARE = 0.028  # of cases mentioning "vattenläcka" (the search benchmark's word)
CONTACTS_PER_CASE = 1.3
GOLDEN = 0.6180339887498949


class History:
    """Generates the cases, contacts and events of the whole window into ``buffers``."""

    def __init__(
        self,
        *,
        rng: random.Random,
        setup: Setup,
        clock: Clock,
        end: int,
        residents: Residents,
        n_contacts: int,
        buffers: Buffers,
        reference_prefix: str,
        auto_close_days: int,
    ) -> None:
        self.rng, self.clock, self.end, self.res, self.buf = rng, clock, end, residents, buffers
        self.setup = setup
        self.n_contacts = n_contacts
        self.life = Lifecycle(
            rng=rng,
            clock=clock,
            end=end,
            buffers=buffers,
            contact_center_id=setup.contact_center_id,
            residents=residents,
            reference_prefix=reference_prefix,
            department_codes={pk: code for code, pk in setup.departments.items()},
            agents=setup.agents,
            handlers=setup.handlers,
            auto_close_days=auto_close_days,
        )
        self.change_index = (setup.change_date - clock.first_day).days
        self._category_tables()
        self._channel_tables()
        self.last_case: dict[int, tuple[int, int, str, int | None]] = {}
        self.phase = rng.random()

    # --- precomputed tables ------------------------------------------------------------------
    def _category_tables(self) -> None:
        """Per era (before/after the taxonomy change) and month: categories and cumulative weights."""
        self.categories: list[list[tuple[list[CategoryVersion], list[float]]]] = []
        for era in ("before", "after"):
            versions = [v for v in self.setup.categories if v.era in ("always", era)]
            per_month = []
            for month in range(12):
                weights = [v.spec.weight * SEASONS[v.spec.season][month] for v in versions]
                per_month.append((versions, list(accumulate(weights))))
            self.categories.append(per_month)
        # Per era, the rate of the search word outside the subjects that already contain it.
        self.word_rates = []
        for era in ("before", "after"):
            versions = [v for v in self.setup.categories if v.era in ("always", era)]
            total = sum(v.spec.weight for v in versions)
            built_in = sum(v.spec.weight * texts.has_word(v.spec.code) for v in versions) / total
            self.word_rates.append(max(0.0, (WORD_SHARE - built_in) / (1 - built_in)))

    def _channel_tables(self) -> None:
        clock = self.clock
        n = clock.n_days
        self.mix: list[list[float]] = []
        self.volume: list[float] = []
        for d in range(n):
            f = d / (n - 1) if n > 1 else 1.0
            mix = [a + (b - a) * f for a, b in zip(MIX_FIRST, MIX_LAST, strict=True)]
            if not clock.open_days[d]:
                mix = [0.0 if c in OPEN_ONLY else w for c, w in zip(CHANNELS, mix, strict=True)]
            self.mix.append(list(accumulate(mix)))
            day = clock.dates[d]
            volume = WEEKDAY_VOLUME[day.weekday()] * MONTH_VOLUME[day.month - 1]
            if not clock.open_days[d] and day.weekday() < 5:
                volume = 0.15
            self.volume.append(volume)
        last_fraction = (self.end - clock.midnights[n - 1]) / DAY
        self.volume[n - 1] *= min(1.0, max(0.01, last_fraction))
        self.staff_cum = list(accumulate(STAFF_HOUR_WEIGHTS))
        self.digital_cum = list(accumulate(DIGITAL_HOUR_WEIGHTS))

    # --- slots: when a case starts and on which channel -------------------------------------
    def _slots(self, d: int, count: int) -> list[tuple[int, str]]:
        rng, clock = self.rng, self.clock
        midnight = clock.midnights[d]
        office = clock.office[d]
        # Channels from a golden-ratio sequence instead of independent draws: the realised mix
        # then follows the target closely even in small samples (a 300-contact test seed).
        cum = self.mix[d]
        total = cum[-1]
        channels = []
        for _ in range(count):
            self.phase = (self.phase + GOLDEN) % 1.0
            channels.append(CHANNELS[bisect.bisect_right(cum, self.phase * total)])
        staff_hours = rng.choices(STAFF_HOURS, cum_weights=self.staff_cum, k=count)
        digital_hours = rng.choices(range(24), cum_weights=self.digital_cum, k=count)
        out = []
        for channel, staff_hour, digital_hour in zip(
            channels, staff_hours, digital_hours, strict=True
        ):
            if channel in OPEN_ONLY and office is not None:
                t = midnight + staff_hour * HOUR + below(rng, HOUR)
                # Phone, chat and video follow the phone line (to 17:00) except on short days.
                short = office[1] - office[0] < 6 * HOUR
                closes = office[1] if channel in OFFICE_ONLY or short else midnight + 17 * HOUR
                if t >= closes:
                    t = between(rng, office[0], closes - 1)
            else:
                t = midnight + digital_hour * HOUR + below(rng, HOUR)
            if t > self.end:  # the last day is cut at the end: move into what is left of it
                lo = office[0] if office is not None and channel in OPEN_ONLY else midnight
                lo = lo if lo < self.end else midnight
                t = lo + below(rng, max(1, self.end - lo))
            out.append((t, channel))
        out.sort()
        return out

    # --- the run -----------------------------------------------------------------------------
    def run(self, chunk: int) -> Iterator[None]:
        """Generate everything; yield whenever ``chunk`` contacts are buffered (the caller flushes)."""
        clock = self.clock
        n = clock.n_days
        bench_day = max(0, n - 35) if self.n_contacts >= 100 else -1
        regular = self.n_contacts - (benchcase.CONTACTS if bench_day >= 0 else 0)
        cumulative = list(accumulate(self.volume))
        produced = 0
        for d in range(n):
            if d == bench_day:
                produced += benchcase.play(self.life, self, d)
            target = benchcase.CONTACTS * (d >= bench_day >= 0) + round(
                regular * cumulative[d] / cumulative[-1]
            )
            if d == n - 1:
                target = self.n_contacts
            era = 1 if d >= self.change_index else 0
            year = clock.dates[d].year
            month_table = self.categories[era][clock.dates[d].month - 1]
            while produced < target:
                count = max(1, int((target - produced) / CONTACTS_PER_CASE) + 2)
                for t0, channel in self._slots(d, count):
                    if produced >= target:
                        break
                    room = self.n_contacts - produced
                    produced += self._one(
                        t0, year, channel, month_table, room, self.word_rates[era]
                    )
                    if len(self.buf.contacts) >= chunk:
                        yield
        assert produced == self.n_contacts, (produced, self.n_contacts)

    def _one(
        self,
        t0: int,
        year: int,
        channel: str,
        table: tuple[list[CategoryVersion], list[float]],
        room: int,
        word_rate: float,
    ) -> int:
        rng = self.rng
        category: CategoryVersion | None = None
        resident: int | None = None
        duplicate_of = None
        if channel in SPAMMY and rng.random() < 0.006:
            pass  # spam: no category, no resident
        else:
            category = rng.choices(table[0], cum_weights=table[1])[0]
            if rng.random() >= ANONYMOUS[channel]:
                resident = int(len(self.res.ids) * rng.random() ** 1.7)
                previous = self.last_case.get(resident)
                if previous and t0 - previous[1] < 3 * DAY and rng.random() < 0.3:
                    duplicate_of = (previous[0], previous[2], previous[3])
        case_id = self.buf.next_case
        used = self.life.play(
            t0=t0,
            year=year,
            channel=channel,
            category=category,
            resident=resident,
            room=room,
            word_rate=word_rate,
            duplicate_of=duplicate_of,
        )
        if resident is not None and duplicate_of is None:
            self.last_case[resident] = (case_id, t0, self.life.reference, self.life.inactive_at)
        return used

    def leak_category(self, d: int) -> CategoryVersion:
        """The water-leak category valid on day ``d`` (before the split: the combined one)."""
        code = "water-leak" if d >= self.change_index else "water-sewer-fault"
        return next(v for v in self.setup.categories if v.spec.code == code)
