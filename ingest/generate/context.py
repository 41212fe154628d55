"""What every register writer works with: the world, its people and cases, the ground truth, and the
ways Belgian exports write names, dates and amounts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from ingest.generate.cases import Cases
from ingest.generate.entities import Person
from ingest.generate.population import Population
from ingest.generate.truth import Ref, Truth
from ingest.generate.world import World


@dataclass
class Context:
    world: World
    population: Population
    cases: Cases
    truth: Truth
    # How many stolen vehicles ANG has alerts for (ANG is written first; ANPR's hit list follows it).
    stolen_alerts: int = 0

    def see_person(self, ref: Ref, person: Person, written: str) -> None:
        self.truth.seen(ref, person.key, written)


def comma_name(surname: str, given: str) -> str:
    """VANDENBOSSCHE, Jan: the surname in capitals first, as police registers print it."""
    return f"{surname.upper()}, {given}"


def dmy(day: date, separator: str = "/") -> str:
    return f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year}"


def belgian_moment(rng: random.Random, moment: datetime) -> str:
    """A moment as Belgian exports write it, in one of the forms the datetime transform reads."""
    style = rng.random()
    if style < 0.6:
        return f"{dmy(moment.date())} {moment:%H:%M}"
    if style < 0.8:
        return f"{moment.day}-{moment.month}-{moment.year} {moment:%H}u{moment:%M}"
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def amount(value: float) -> str:
    """58,00 and 1.234,56: the comma is the decimal mark."""
    whole, cents = divmod(round(value * 100), 100)
    return f"{whole:,}".replace(",", ".") + f",{cents:02d}"
