"""The kinds of entity a world holds (people, vehicles, phones, accounts, companies) and the tables
they are drawn from: car models with their VIN makers, colours, origins, document formats."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from ingest.generate import numbers as num
from ingest.generate.places import ForeignTown, Municipality


@dataclass(frozen=True, slots=True)
class Phone:
    key: str
    national: str  # 0470123456

    @property
    def e164(self) -> str:
        return num.e164(self.national)


@dataclass(frozen=True, slots=True)
class Account:
    key: str
    iban: str  # compact
    holder: str  # person key


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    index: int
    origin: str
    sex: str  # M or F
    given: tuple[str, ...]  # every given name; the first is the one in use
    surname: str
    birth: date
    nationality: str  # ISO alpha-3
    language: str  # nl, fr, de, en
    national_number: str | None
    bis_number: str | None
    home: Municipality | None
    street: str
    house: str
    town: ForeignTown | None
    phones: tuple[Phone, ...]
    accounts: tuple[Account, ...]
    vehicles: tuple[int, ...]
    email: str | None
    licence: str | None
    document: tuple[str, str]  # kind, number
    identity_card: str | None  # a Belgian eID card number, twelve digits
    immigration_ref: str | None
    visa: str | None
    aliases: tuple[str, ...]
    surnames: tuple[str, ...]  # spellings, the canonical one first
    givens: tuple[str, ...]  # spellings of the first given name

    @property
    def seaman_book(self) -> str:
        return f"{self.nationality}-SB-{self.index:06d}"

    @property
    def display(self) -> str:
        return f"{self.given[0]} {self.surname}"

    @property
    def number(self) -> str | None:
        return self.national_number or self.bis_number

    def spell(self, rng: random.Random, care: float, all_given: bool = False) -> tuple[str, str]:
        """(surname, given names) as one clerk writes them: the canonical spelling with probability
        `care`, else one of the variants."""
        surname = self.surname
        if len(self.surnames) > 1 and rng.random() > care:
            surname = rng.choice(self.surnames[1:])
        given = self.given[0]
        if len(self.givens) > 1 and rng.random() > care:
            given = rng.choice(self.givens[1:])
        if all_given and len(self.given) > 1:
            given = " ".join((given, *self.given[1:]))
        return surname, given


@dataclass(frozen=True, slots=True)
class Vehicle:
    key: str
    index: int
    country: str  # ISO alpha-2
    plate: str  # as printed
    make: str
    model: str
    colour: int  # index into COLOURS
    year: int
    owner: int  # person index (resident for BE, neighbour otherwise)
    stolen: bool
    model_index: int  # into MODELS: the maker's VIN prefix
    vin_slot: int

    @property
    def vin(self) -> str:
        """Computed when asked: plate reads, the bulk of the data, never need it."""
        _, _, wmi, descriptor = MODELS[self.model_index]
        return num.vin(wmi, descriptor, self.vin_slot)

    @property
    def description(self) -> str:
        return f"{self.make} {self.model}"


@dataclass(frozen=True, slots=True)
class Organisation:
    key: str
    index: int
    name: str
    enterprise_number: str
    director: int  # resident index


MODELS = (
    ("Volkswagen", "Golf", "WVW", "ZZZAU"), ("Volkswagen", "Polo", "WVW", "ZZZAW"),
    ("Volkswagen", "Transporter", "WV1", "ZZZ7H"), ("BMW", "320d", "WBA", "8E9C5"), ("BMW", "X1", "WBA",
                                                                                     "JG110"),
    ("Audi", "A4", "WAU", "ZZZ8K"), ("Audi", "A3", "WAU", "ZZZ8V"), ("Mercedes-Benz", "C 200", "WDD",
                                                                     "20504"),
    ("Mercedes-Benz", "Sprinter", "WDB", "90663"), ("Renault", "Clio", "VF1", "RJA00"),
    ("Renault", "Mégane", "VF1", "RFB00"), ("Peugeot", "208", "VF3", "UPHNS"), ("Peugeot", "3008", "VF3",
                                                                                "MCYHZ"),
    ("Citroën", "C3", "VF7", "SXHMZ"), ("Opel", "Corsa", "W0L", "0XEP6"), ("Ford", "Fiesta", "WF0", "DXXGA"),
    ("Ford", "Transit", "WF0", "XXTTG"), ("Toyota", "Yaris", "VNK", "KL3D3"), ("Toyota", "Corolla", "SB1",
                                                                               "Z93JE"),
    ("Škoda", "Octavia", "TMB", "JG7NE"), ("Kia", "Sportage", "U5Y", "PG81A"), ("Hyundai", "i30", "TMA",
                                                                                "H851G"),
    ("Dacia", "Sandero", "UU1", "5SDL4"), ("Fiat", "500", "ZFA", "31200"), ("Volvo", "XC60", "YV1", "UZA8V"),
    ("Tesla", "Model 3", "5YJ", "3E7EA"), ("Nissan", "Qashqai", "SJN", "FAAJ1"), ("Seat", "Leon", "VSS",
                                                                                  "ZZZ5F"),
)  # fmt: skip
COLOURS = (
    ("zwart", "noir", "schwarz"),
    ("wit", "blanc", "weiß"),
    ("grijs", "gris", "grau"),
    ("blauw", "bleu", "blau"),
    ("rood", "rouge", "rot"),
    ("zilvergrijs", "gris argent", "silbern"),
)

# Who lives where: origins by language region (Brussels is "bi").
ORIGINS = {
    "nl": (("flemish", 84), ("maghreb", 6), ("turkish", 4), ("italian", 1), ("polish", 1), ("dutch", 2),
           ("congolese", 1), ("romanian", 1)),
    "fr": (("walloon", 80), ("italian", 6), ("maghreb", 6), ("turkish", 2), ("congolese", 3), ("polish", 1),
           ("french", 2)),
    "bi": (("walloon", 33), ("flemish", 9), ("maghreb", 25), ("turkish", 8), ("congolese", 8),
           ("romanian", 4),
           ("polish", 3), ("italian", 3), ("chinese", 1), ("south_asian", 2), ("west_african", 4)),
    "de": (("german", 90), ("walloon", 6), ("dutch", 2), ("polish", 2)),
}  # fmt: skip
TRAVELLER_ORIGINS = (
    ("maghreb", 18),
    ("east", 16),
    ("west_african", 12),
    ("chinese", 6),
    ("south_asian", 8),
    ("albanian", 8),
    ("congolese", 10),
    ("turkish", 8),
    ("romanian", 8),
    ("polish", 6),
)
NEIGHBOUR_ORIGINS = {"NL": "dutch", "FR": "french", "DE": "german", "LU": "luxembourgish", "PL": "polish"}
# Travel-document number formats by nationality (L: letter, #: digit).
# Every format holds at least 10**7 numbers (see `numbers.document_number`).
DOCUMENTS = {
    "BEL": "EL######",
    "MAR": "LL#######",
    "DZA": "#########",
    "TUN": "L#######",
    "TUR": "L########",
    "RUS": "#########",
    "UKR": "LL######",
    "CHN": "E########",
    "IND": "L#######",
    "COD": "OP#######",
    "ROU": "LL#######",
    "ALB": "BL#######",
    "NLD": "LL#######",
    "FRA": "##LL#####",
    "DEU": "C#######",
    "LUX": "LL######",
}
COUNTRY_OF_NATIONALITY = {"NL": "NLD", "FR": "FRA", "DE": "DEU", "LU": "LUX", "PL": "POL"}
MAIL_DOMAINS = ("voorbeeld.be", "exemple.be", "beispiel.be", "mail.example", "post.example")
COMPANY_FORMS = (
    ("{s} Transport BV", "Transports {s} SRL"),
    ("Garage {s}", "Garage {s}"),
    ("Bouwbedrijf {s} NV", "Construction {s} SA"),
    ("{s} Import-Export", "Import-Export {s}"),
    ("Carwash {s}", "Car Wash {s}"),
    ("Nachtwinkel {s}", "Night Shop {s}"),
    ("{s} Trading BV", "{s} Trading SRL"),
    ("Immo {s} BV", "Immo {s} SRL"),
)
