"""Criminal cases: the storylines that tie registers together.

Case c is, like every entity, a function of its index: a burglary in Mechelen on a Tuesday night with a
suspect, his car, his prepaid phone and the PV number the local police gave it. ISLP writes its PV and
hearings, PacOs the items seized, ANG the alerts on the suspects, FOCUS the 101 call and the briefing,
ANPR the suspect's car passing cameras with the case on its hit list: each register derives the same case
from its number, so they agree without sharing anything but the seed.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.generate import numbers as num
from ingest.generate.entities import Account, Phone
from ingest.generate.places import STREETS, Municipality, municipalities
from ingest.generate.places import population_weights as place_weights
from ingest.generate.population import Population
from ingest.generate.world import World, moment

KINDS = (
    ("inbraak", 30), ("drugs", 18), ("fraude", 12), ("autodiefstal", 10), ("geweld", 12), ("witwassen", 6),
    ("diefstal", 12),
)  # fmt: skip
# Judicial district code (the letters opening a PV number) and the federal police of each province.
DISTRICTS = {
    "VAN": ("AN", "FGP Antwerpen", "Parket Antwerpen"),
    "VLI": ("HA", "FGP Limburg", "Parket Limburg"),
    "VOV": ("GE", "FGP Oost-Vlaanderen", "Parket Oost-Vlaanderen"),
    "VWV": ("BG", "FGP West-Vlaanderen", "Parket West-Vlaanderen"),
    "VBR": ("LE", "FGP Leuven", "Parket Leuven"),
    "BRU": ("BR", "FGP Brussel", "Parquet de Bruxelles"),
    "WBR": ("NI", "PJF Brabant wallon", "Parquet du Brabant wallon"),
    "WHT": ("CH", "PJF Hainaut", "Parquet du Hainaut"),
    "WLG": ("LI", "PJF Liège", "Parquet de Liège"),
    "WLX": ("AR", "PJF Luxembourg", "Parquet du Luxembourg"),
    "WNA": ("NA", "PJF Namur", "Parquet de Namur"),
}
EUPEN = ("EU", "FGP Eupen", "Staatsanwaltschaft Eupen")
PV_SERIALS = 9_000_000


def district(place: Municipality) -> tuple[str, str, str]:
    return EUPEN if place.language == "de" else DISTRICTS[place.province]


def local_unit(place: Municipality, language: str) -> str:
    """The local police zone, named as it names itself."""
    if place.language == "de":
        return f"PZ {place.de or place.nl}"
    if place.language == "bi":
        return "PZ Brussel-Hoofdstad-Elsene" if language == "nl" else f"ZP {place.fr}"
    return f"PZ {place.nl}" if place.language == "nl" else f"ZP {place.fr}"


@dataclass(frozen=True, slots=True)
class Case:
    index: int
    number: str
    kind: str
    language: str
    place: Municipality
    street: str
    house: str
    moment: datetime
    suspects: tuple[int, ...]  # residents (persons of interest)
    victim: int  # a resident
    witness: int | None
    vehicle: int | None  # the suspects' car
    phone: Phone | None
    account: Account | None
    organisation: int | None
    pv_number: str
    parquet_number: str
    unit: str
    federal_unit: str
    prosecutor: str
    hearings: int
    informed: bool  # registered information came before the facts


def pv_number(place: Municipality, serial: int, year: int) -> str:
    """AN.12.L3.004711/2026: district, zone, a series letter and digit, a serial, the year."""
    code = district(place)[0]
    series, number = divmod(serial, 1_000_000)
    return f"{code}.{int(place.postcode) % 97:02d}.L{series + 1}.{number:06d}/{year}"


def parquet_number(code: str, serial: int, year: int) -> str:
    """AN20.L1.12345/2026: the prosecutor's notice number, one per case (the serial is unique)."""
    return f"{code}{20 + serial // 900_000:02d}.L{serial // 100_000 % 9 + 1}.{serial % 100_000:05d}/{year}"


class Cases:
    def __init__(self, world: World, population: Population, count: int) -> None:
        self.world = world
        self.population = population
        self.count = count
        salt = world.seed * 104_729 + 3
        self.pv_serials = num.Slots(PV_SERIALS, salt)
        self.suspect_slots = num.Slots(population.cast, salt + 1)
        self.case = functools.lru_cache(maxsize=2048)(self._case)

    def cases_of(self, person: int) -> int | None:
        """The first case a person of interest is the main suspect in, if any."""
        if person >= self.population.cast:
            return None
        first = self.suspect_slots.inverse(person)
        return first if first < self.count else None

    def _case(self, c: int) -> Case:
        rng = random.Random(f"{self.world.seed}:case:{c}")  # noqa: S311 - synthetic data, not secrets
        population = self.population
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        main = self.suspect_slots(c % population.cast)
        suspects: tuple[int, ...] = (main,) if rng.random() < 0.6 else (main, population.pick_cast(rng))
        suspects = tuple(dict.fromkeys(suspects))
        place = rng.choices(municipalities(), cum_weights=place_weights())[0]
        language = (
            place.language
            if place.language in {"nl", "fr", "de"}
            else ("fr" if rng.random() < 0.75 else "nl")
        )
        night = kind in {"inbraak", "geweld", "autodiefstal", "drugs"}
        day = self.world.day(rng, weekend_weight=1.6 if night else 0.6)
        when = moment(rng, day, "night" if night else "day")
        suspect = population.resident(main)
        vehicle = None
        if kind in {"inbraak", "drugs", "autodiefstal", "diefstal"} and suspect.vehicles:
            vehicle = rng.choice(suspect.vehicles)
        account = None
        if kind in {"fraude", "witwassen"}:
            account = suspect.accounts[-1]
        code, federal, prosecutor = district(place)
        street_language = language if language in STREETS else "fr"
        victim = rng.randrange(population.cast, population.residents)
        hearings, informed = self.shape(c)
        return Case(
            index=c,
            number=f"CASE-{day.year}-{c + 1:04d}",
            kind=kind,
            language=language,
            place=place,
            street=rng.choice(STREETS[street_language]),
            house=str(rng.randint(1, 220)),
            moment=when,
            suspects=suspects,
            victim=victim,
            witness=rng.randrange(population.cast, population.residents) if rng.random() < 0.5 else None,
            vehicle=vehicle,
            phone=suspect.phones[-1],
            account=account,
            organisation=population.organisation_of(main) if kind in {"fraude", "witwassen"} else None,
            pv_number=pv_number(place, self.pv_serials(c), day.year),
            parquet_number=parquet_number(code, self.pv_serials(c), day.year),
            unit=local_unit(place, language) + ("/Recherche" if rng.random() < 0.6 else ""),
            federal_unit=federal,
            prosecutor=prosecutor,
            hearings=hearings,
            informed=informed,
        )

    def shape(self, c: int) -> tuple[int, bool]:
        """How many hearings case c has and whether information came first: its rows in ISLP, known
        without deriving the whole case (the ISLP writer plans with them)."""
        rng = random.Random(f"{self.world.seed}:case-shape:{c}")  # noqa: S311 - synthetic data
        return rng.choice((1, 1, 2, 2, 3)), rng.random() < 0.3

    def rows_in_islp(self, c: int) -> int:
        hearings, informed = self.shape(c)
        return 1 + hearings + int(informed)

    def informed_at(self, case: Case) -> datetime:
        return case.moment - timedelta(
            days=random.Random(f"{self.world.seed}:info:{case.index}").randint(3, 40)  # noqa: S311
        )
