"""The plan of a generated world: how many rows each register gets, the period it covers, and the
clock (office hours for hearings, nights and weekends for incidents, rush hours on the motorways).

Everything random comes from `World.rng(...)`: one `random.Random` per purpose, seeded from the world's
seed and the purpose's name (never from the clock or the process's hash seed), so a register's file does
not depend on how many numbers another register drew before it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
# The last day of every generated world: fixed, so the same seed gives the same files on any day.
PERIOD_END = date(2026, 10, 31)

# Shares of the total, by register: plate reads dominate, as they do in the real index.
SHARES = {
    "anpr": 0.80,
    "islp": 0.06,
    "focus": 0.04,
    "cross_border_exchange": 0.025,
    "mercurius": 0.015,
    "pacos": 0.015,
    "aerotask": 0.015,
    "aquatask": 0.008,
    "belvis": 0.008,
    "ang": 0.007,
    "raavis": 0.007,
}


def apportion(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Whole rows per register summing to `total` exactly (largest remainders)."""
    raw = {name: total * share / sum(shares.values()) for name, share in shares.items()}
    counts = {name: int(value) for name, value in raw.items()}
    by_remainder = sorted(raw, key=lambda name: (counts[name] - raw[name], name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


@dataclass(frozen=True)
class World:
    seed: int
    total: int
    counts: dict[str, int]
    start: date
    days: int

    @classmethod
    def plan(cls, seed: int, total: int) -> World:
        if total < 0:
            raise ValueError("total must not be negative")
        # Longer periods for bigger worlds: about 20,000 rows a day, between a month and a year.
        days = min(365, max(30, total // 20_000))
        return cls(seed, total, apportion(total, SHARES), PERIOD_END - timedelta(days=days - 1), days)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def rng(self, *purpose: object) -> random.Random:
        # A string seed is hashed with SHA-512 by `random`: stable across runs and platforms.
        return random.Random(f"{self.seed}/" + "/".join(str(part) for part in purpose))  # noqa: S311 - not secrets

    def day(self, rng: random.Random, weekend_weight: float = 1.0) -> date:
        """A day of the period; weekends `weekend_weight` times as likely as a weekday."""
        top = max(1.0, weekend_weight)
        while True:
            day = self.start + timedelta(days=rng.randrange(self.days))
            if rng.random() * top < (weekend_weight if day.weekday() >= 5 else 1.0):
                return day


# Hourly weights (0h..23h) of when things happen.
_PROFILES = {
    # hearings, seizures registered, reports written: weekdays 8h-17h
    "office": (0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 4, 3, 1, 3, 4, 4, 2, 0, 0, 0, 0, 0, 0, 0),
    # burglaries, fights, disturbances: evenings and nights
    "night": (6, 6, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 7),
    # traffic: rush hours
    "traffic": (1, 1, 1, 1, 1, 3, 9, 14, 12, 7, 6, 6, 6, 6, 7, 9, 13, 14, 9, 6, 4, 3, 2, 1),
    "weekend_traffic": (2, 2, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 10, 10, 10, 9, 8, 7, 5, 4, 3, 3, 2),
    # daytime facts: thefts, controls, fines
    "day": (1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 4, 3, 2, 1),
    # flights and sailings
    "border": (1, 1, 1, 1, 1, 6, 9, 9, 8, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 5, 3, 2),
}
_CUMULATIVE = {name: tuple(accumulate(weights)) for name, weights in _PROFILES.items()}


def hour_of(rng: random.Random, profile: str) -> int:
    cumulative = _CUMULATIVE[profile]
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def at(day: date, hour: int, minute: int, second: float = 0.0) -> datetime:
    """A Belgian wall-clock moment (CET or CEST as the day has it)."""
    whole = int(second)
    micro = round((second - whole) * 1_000_000)
    return datetime.combine(day, time(hour, minute, whole, min(micro, 999_999)), tzinfo=BRUSSELS)


def moment(rng: random.Random, day: date, profile: str) -> datetime:
    if profile == "traffic" and day.weekday() >= 5:
        profile = "weekend_traffic"
    return at(day, hour_of(rng, profile), rng.randrange(60))


def office_moment(rng: random.Random, after: date, within_days: int = 10) -> datetime:
    """A weekday in office hours, some days after `after`: hearings, seizure registrations."""
    day = after + timedelta(days=rng.randint(0, within_days))
    while day.weekday() >= 5:  # drawn again, not moved to Monday: Mondays would get the weekends too
        day = after + timedelta(days=rng.randint(0, within_days + 2))
    return at(day, hour_of(rng, "office"), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50)))


def fraction_to_seconds(fraction: float, profile: str) -> float:
    """The second of the day at which a share `fraction` of the day's traffic has passed (inverse CDF
    of the hourly profile, linear within the hour)."""
    cumulative = _CUMULATIVE[profile]
    target = fraction * cumulative[-1]
    hour = min(bisect.bisect_right(cumulative, target), 23)
    before = cumulative[hour - 1] if hour else 0
    width = cumulative[hour] - before
    return 3600 * (hour + ((target - before) / width if width else 0.0))


def ascending_uniforms(rng: random.Random, count: int) -> Iterator[float]:
    """`count` uniform numbers in increasing order, one at a time, in constant memory: the largest of k
    uniforms is U**(1/k), and the others are uniform below it."""
    top = 1.0
    for remaining in range(count, 0, -1):
        top *= rng.random() ** (1.0 / remaining)
        yield 1.0 - top
