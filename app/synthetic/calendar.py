"""Local time for an operator, and each counsellor's calendar of appointment slots.

A working day offers five 90-minute slots (9:00, 10:30, 13:30, 15:00, 16:30, local time): the
longest motif (60 minutes plus a 15-minute buffer) fits in one, so two appointments in two
different slots never overlap. A bitmap per counsellor (one byte per slot) says which are
taken: about 8 KB per counsellor for four years, whatever the number of appointments.
"""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SLOT_STARTS = (9 * 60, 10 * 60 + 30, 13 * 60 + 30, 15 * 60, 16 * 60 + 30)  # local minutes
SLOTS = len(SLOT_STARTS)


class LocalClock:
    """Day numbers counted from `start` (0 = start), turned into UTC moments of local times."""

    def __init__(self, time_zone: str, start: date, days: int):
        zone = ZoneInfo(time_zone)
        self.start = start
        self.days = days
        self._midnights = []
        self.workday = bytearray(days)
        for index in range(days):
            day = start + timedelta(days=index)
            # The offset at noon: changes of time happen at night, far from working hours.
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            offset = noon.utcoffset() or timedelta(0)
            self._midnights.append(datetime(day.year, day.month, day.day, tzinfo=UTC) - offset)
            self.workday[index] = day.weekday() < 5

    def moment(self, day: int, minute: int) -> datetime:
        """The UTC moment of local `minute` (from midnight) on day number `day`."""
        return self._midnights[day] + timedelta(minutes=minute)

    def next_workday(self, day: int) -> int:
        while day < self.days - 1 and not self.workday[day]:
            day += 1
        return day

    def day_of(self, moment: datetime) -> int:
        """The local day number of a UTC moment."""
        return (moment - self._midnights[0]).days


class Calendar:
    """The slots a counsellor has taken, on the days of a LocalClock."""

    def __init__(self, clock: LocalClock):
        self.clock = clock
        self.taken = bytearray(clock.days * SLOTS)

    def book(self, rng: random.Random, day: int, *, within: int = 30) -> tuple[int, int] | None:
        """Take the first free slot on or after `day` (within `within` days): (day, minute)."""
        clock, taken = self.clock, self.taken
        last = min(day + within, clock.days)
        first_slot = rng.randrange(SLOTS)
        for current in range(max(day, 0), last):
            if not clock.workday[current]:
                continue
            base = current * SLOTS
            for step in range(SLOTS):
                slot = (first_slot + step) % SLOTS
                if not taken[base + slot]:
                    taken[base + slot] = 1
                    return current, SLOT_STARTS[slot]
        return None
