"""The people, vehicles, phones, accounts and companies of a generated world.

Nobody is stored: entity i of a kind is a pure function of (seed, kind, i), derived when a register
needs it and kept in a small cache. Identifiers come through `numbers.Slots`, so they are unique by
construction; ownership is an index map with an inverse (vehicle j belongs to person i, and person i
knows their vehicles), so the same person, car, phone and account recur across registers without any
table that grows with the number of records. The first `cast` residents are the recurring persons of
interest: registers pick them far more often, and they carry aliases, prepaid phones and extra accounts.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any, TypeVar

from ingest.generate import names as n
from ingest.generate import numbers as num
from ingest.generate.entities import (
    COLOURS,
    COMPANY_FORMS,
    COUNTRY_OF_NATIONALITY,
    DOCUMENTS,
    MAIL_DOMAINS,
    MODELS,
    NEIGHBOUR_ORIGINS,
    ORIGINS,
    TRAVELLER_ORIGINS,
    Account,
    Organisation,
    Person,
    Phone,
    Vehicle,
)
from ingest.generate.places import FOREIGN_TOWNS, STREETS, municipalities
from ingest.generate.places import population_weights as place_weights
from ingest.generate.world import World

T = TypeVar("T")


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    total = sum(weight for _, weight in options)
    pick = rng.random() * total
    for name, weight in options:
        pick -= weight
        if pick < 0:
            return name
    return options[-1][0]


def _cached(function: Callable[[int], T], size: int) -> Callable[[int], T]:
    return functools.lru_cache(maxsize=size)(function)


class Population:
    """Every entity of a world, by index; see the module docstring."""

    def __init__(self, world: World) -> None:
        self.world = world
        total = world.total
        self.residents = max(500, total // 10)
        self.cast = min(3000, max(60, total // 300), self.residents)
        self.travellers = max(300, total // 50)
        self.neighbours = max(150, total // 80)
        self.vehicles = self.residents * 3 // 2
        self.foreign_vehicles = self.neighbours * 5 // 4
        self.organisations = max(20, self.cast // 4)
        # Met again and again: a fixed number, so they stay in the caches however big the world.
        self.regulars = min(self.residents // 10, 3000)
        self.commuters = min(self.vehicles // 10, 4000)
        salt = world.seed * 7919 + 17
        reference = world.end
        self.year = reference.year
        self.births = num.BirthSpace.around(
            # Adults only: everyone may own a car, and births from 2000 on (the "2" check rule) are the young.
            reference,
            {range(18, 46): 1.0, range(46, 61): 0.6, range(61, 76): 0.3, range(76, 91): 0.1},
        )
        self.traveller_births = num.BirthSpace.around(reference, {range(18, 36): 1.0, range(36, 66): 0.5})
        self.birth_slots = num.Slots(self.births.size, salt)
        self.bis_slots = num.Slots(self.traveller_births.size, salt + 1)
        self.mobile_slots = num.Slots(len(num.MOBILE_PREFIXES) * num.MOBILES_PER_PREFIX, salt + 2)
        self.landline_slots = num.Slots(num.LANDLINES, salt + 3)
        self.account_slots = num.Slots(len(num.BELGIAN_BANKS) * num.ACCOUNTS_PER_BANK, salt + 4)
        self.foreign_account_slots = num.Slots(10**9, salt + 5)
        self.plate_slots = {style: num.Slots(size, salt + 6) for style, size in num.PLATE_SPACE.items()}
        self.foreign_plate_slots = {
            c: num.Slots(size, salt + 7) for c, size in num.FOREIGN_PLATE_SPACE.items()
        }
        self.vin_slots = num.Slots(num.VIN_SPACE, salt + 8)
        self.company_slots = num.Slots(4_000_000, salt + 9)
        self.licence_slots = num.Slots(10**9, salt + 10)
        self.document_slots = num.Slots(10**7, salt + 11)
        self.reference_slots = num.Slots(10**7, salt + 12)
        self.identity_card_slots = num.Slots(10**7, salt + 16)
        # Ownership: vehicle j belongs to resident owner_slots(j mod residents); the inverse lists a
        # person's vehicles without a table.
        self.owner_slots = num.Slots(self.residents, salt + 13)
        self.foreign_owner_slots = num.Slots(self.neighbours, salt + 14)
        self.director_slots = num.Slots(self.cast, salt + 15)
        # Bounded caches: the cast, the regulars and the commuters stay in them; anyone else is derived
        # again when met.
        self.resident = _cached(self._resident, 8192)
        self.traveller = _cached(self._traveller, 1024)
        self.neighbour = _cached(self._neighbour, 1024)
        self.vehicle = _cached(self._vehicle, 8192)
        self.foreign_vehicle = _cached(self._foreign_vehicle, 1024)
        self.organisation = _cached(self._organisation, 256)

    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.world.seed}:{kind}:{index}")  # noqa: S311 - synthetic data, not secrets

    # -- choosing who appears -----------------------------------------------------------------------
    def pick_cast(self, rng: random.Random) -> int:
        """A person of interest, the first ones far more often (a few are in everything)."""
        return int(self.cast * rng.random() ** 2)

    def pick_resident(self, rng: random.Random, cast_share: float = 0.3) -> int:
        """Someone the police meet: a person of interest, one of the regulars who are met again and
        again, or anyone."""
        pick = rng.random()
        if pick < cast_share:
            return self.pick_cast(rng)
        if pick < cast_share + (1 - cast_share) / 2:
            return int(rng.random() * self.regulars)
        return int(rng.random() * self.residents)

    def pick_vehicle(self, rng: random.Random) -> int:
        """Commuters pass daily: a few thousand cars make half of the trips."""
        if rng.random() < 0.5:
            return int(rng.random() * self.commuters)
        return int(rng.random() * self.vehicles)

    def pick_traveller(self, rng: random.Random) -> int:
        return int(self.travellers * rng.random() ** 1.5)

    def cast_vehicle(self, rng: random.Random) -> int | None:
        for _ in range(4):
            vehicles = self.resident(self.pick_cast(rng)).vehicles
            if vehicles:
                return rng.choice(vehicles)
        return None

    # -- people -----------------------------------------------------------------------------------
    def _names(self, rng: random.Random, origin: str, sex: str, count: int) -> tuple[tuple[str, ...], str]:
        male, female = n.GIVEN[origin]
        pool = male if sex == "M" else female
        given = tuple(dict.fromkeys(rng.choice(pool) for _ in range(count)))
        return given, rng.choice(n.SURNAMES[origin])

    def _resident(self, i: int) -> Person:
        rng = self._rng("resident", i)
        birth, serial = self.births.birth(self.birth_slots(i))
        sex = "M" if serial % 2 else "F"
        places = municipalities()
        home = rng.choices(places, cum_weights=place_weights())[0]
        origin = _weighted(rng, ORIGINS[home.language])
        language = {"flemish": "nl", "walloon": "fr", "german": "de"}.get(origin, home.language)
        if language == "bi":
            language = "fr" if rng.random() < 0.8 else "nl"
        nationality = n.NATIONALITIES[origin][0] if rng.random() < 0.35 else "BEL"
        if origin in {"flemish", "walloon", "german"}:
            nationality = "BEL"
        given, surname = self._names(rng, origin, sex, rng.choice((1, 1, 2, 2, 3)))
        cast = i < self.cast
        phones = [Phone(f"phone:M{i:08d}", self.mobile("M", i))]
        if cast:
            phones.append(Phone(f"phone:P{i:08d}", self.mobile("P", i)))
        elif rng.random() < 0.25 and i < num.LANDLINES:
            area = num.area_code(home.postcode)
            phones.append(Phone(f"phone:L{i:08d}", num.landline_number(area, self.landline_slots(i))))
        key = f"person:R{i:08d}"
        accounts = [Account(f"account:B{i:08d}", self.iban("B", i), key)]
        if rng.random() < 0.3 or cast:
            second = self.residents + i
            accounts.append(Account(f"account:B{second:08d}", self.iban("B", second), key))
        if cast and rng.random() < 0.5:
            mule = 2 * self.residents + i
            accounts.append(Account(f"account:B{mule:08d}", self.iban("B", mule), key))
        street_language = home.language if home.language in STREETS else language
        if street_language not in STREETS:
            street_language = "fr"
        first = self.owner_slots.inverse(i)
        vehicles = tuple(range(first, self.vehicles, self.residents))
        plain = n.strip_accents(f"{given[0]}.{surname}").lower().replace(" ", "").replace("'", "")
        aliases: tuple[str, ...] = ()
        if cast and rng.random() < 0.6:
            initials = "".join(word[0] for word in surname.replace("'", " ").split()).upper()
            nickname = f"{rng.choice(n.NICKNAMES)} {initials if len(initials) > 1 else surname.upper()}"
            # A nickname, and sometimes the name turned round as a clerk typed it.
            aliases = (nickname,) if rng.random() < 0.5 else (nickname, f"{surname} {given[0]}")
        return Person(
            key=key,
            index=i,
            origin=origin,
            sex=sex,
            given=given,
            surname=surname,
            birth=birth,
            nationality=nationality,
            language=language,
            national_number=num.national_number(birth, serial),
            bis_number=None,
            home=home,
            street=rng.choice(STREETS[street_language]),
            house=self._house(rng),
            town=None,
            phones=tuple(phones),
            accounts=tuple(accounts),
            vehicles=vehicles,
            email=f"{plain}{i}@{rng.choice(MAIL_DOMAINS)}" if rng.random() < 0.4 or cast else None,
            licence=num.licence_number(self.licence_slots(i)) if rng.random() < 0.8 else None,
            document=(
                "PASSPORT",
                num.document_number(DOCUMENTS.get(nationality, "LL#######"), self.document_slots(i)),
            ),
            identity_card=num.identity_card(self.identity_card_slots(i)),
            immigration_ref=None,
            visa=None,
            aliases=aliases,
            surnames=n.surname_variants(surname),
            givens=n.given_variants(given[0]),
        )

    def _traveller(self, t: int) -> Person:
        rng = self._rng("traveller", t)
        birth, serial = self.traveller_births.birth(self.bis_slots(t))
        sex = "M" if serial % 2 else "F"
        origin = _weighted(rng, TRAVELLER_ORIGINS)
        nationality = rng.choice(n.NATIONALITIES[origin])
        given, surname = self._names(rng, origin, sex, rng.choice((1, 1, 2)))
        has_bis = rng.random() < 0.4
        phone = (Phone(f"phone:T{t:08d}", self.mobile("T", t)),)
        reference = self.reference_slots(t)
        return Person(
            key=f"person:T{t:08d}",
            index=t,
            origin=origin,
            sex=sex,
            given=given,
            surname=surname,
            birth=birth,
            nationality=nationality,
            language="fr" if origin in {"maghreb", "congolese", "west_african"} else "en",
            national_number=None,
            bis_number=num.bis_number(birth, serial) if has_bis else None,
            home=None,
            street="",
            house="",
            town=None,
            phones=phone if rng.random() < 0.35 else (),
            accounts=(),
            vehicles=(),
            email=None,
            licence=None,
            document=(
                "PASSPORT",
                num.document_number(
                    DOCUMENTS.get(nationality, "LL#######"), self.document_slots(self.residents + t)
                ),
            ),
            identity_card=None,
            immigration_ref=f"OE{reference:07d}" if rng.random() < 0.6 else None,
            visa=f"BEL0{10_000_000 + reference * 7 % 90_000_000:08d}" if rng.random() < 0.5 else None,
            aliases=(),
            surnames=n.surname_variants(surname),
            givens=n.given_variants(given[0]),
        )

    def _neighbour(self, k: int) -> Person:
        rng = self._rng("neighbour", k)
        town = FOREIGN_TOWNS[k % len(FOREIGN_TOWNS)]
        origin = NEIGHBOUR_ORIGINS[town.country]
        birth, serial = self.traveller_births.birth(self.bis_slots(self.travellers + k))
        sex = "M" if serial % 2 else "F"
        given, surname = self._names(rng, origin if origin in n.GIVEN else "french", sex, 1)
        key = f"person:N{k:08d}"
        iban = self.iban("F", k) if town.country in num.FOREIGN_BANKS else None
        first = self.foreign_owner_slots.inverse(k)
        nationality = COUNTRY_OF_NATIONALITY[town.country]
        return Person(
            key=key,
            index=k,
            origin=origin,
            sex=sex,
            given=given,
            surname=surname,
            birth=birth,
            nationality=nationality,
            language={"NL": "nl", "FR": "fr", "DE": "de", "LU": "fr"}.get(town.country, "en"),
            national_number=None,
            bis_number=None,
            home=None,
            street=rng.choice(town.streets),
            house=str(rng.randint(1, 180)),
            town=town,
            phones=(),
            accounts=(Account(f"account:F{k:08d}", iban, key),) if iban else (),
            vehicles=tuple(range(first, self.foreign_vehicles, self.neighbours)),
            email=None,
            licence=None,
            document=(
                "PASSPORT",
                num.document_number(
                    DOCUMENTS.get(nationality, "LL#######"),
                    self.document_slots(self.residents + self.travellers + k),
                ),
            ),
            identity_card=None,
            immigration_ref=None,
            visa=None,
            aliases=(),
            surnames=n.surname_variants(surname),
            givens=n.given_variants(given[0]),
        )

    @staticmethod
    def _house(rng: random.Random) -> str:
        number = str(int(rng.paretovariate(1.2) * 3))
        extra = rng.random()
        if extra < 0.06:
            return f"{number}A"
        if extra < 0.12:
            return f"{number} bus {rng.randint(1, 12)}"
        return number

    def person(self, key: str) -> Person:
        segment, index = key[7], int(key[8:])
        if segment == "R":
            return self.resident(index)
        if segment == "T":
            return self.traveller(index)
        return self.neighbour(index)

    # -- vehicles and companies ---------------------------------------------------------------------
    def _hash(self, kind: int, index: int) -> int:
        """64 well-mixed bits for entity `index` of a kind (splitmix64): vehicles are derived by the
        hundred thousand for plate reads, and this is much cheaper than seeding a generator."""
        return num.mix64(self.world.seed * 0x9E3779B97F4A7C15 + kind * 0xBF58476D1CE4E5B9 + index)

    def _vehicle(self, j: int) -> Vehicle:
        bits = self._hash(1, j)
        share = bits % 100
        style = "current" if share < 72 else "old" if share < 92 else "transition"
        model = (bits >> 8) % len(MODELS)
        make, name, _, _ = MODELS[model]
        year = {"current": 2010 + (bits >> 16) % 17, "old": 1995 + (bits >> 16) % 14, "transition": 2009}[
            style
        ]
        return Vehicle(
            key=f"vehicle:B{j:08d}",
            index=j,
            country="BE",
            plate=num.belgian_plate(style, self.plate_slots[style](j)),
            make=make,
            model=name,
            colour=(bits >> 24) % len(COLOURS),
            year=year,
            owner=self.owner_slots(j % self.residents),
            stolen=j % 211 == 7,
            model_index=model,
            vin_slot=self.vin_slots(j),
        )

    def _foreign_vehicle(self, j: int) -> Vehicle:
        bits = self._hash(2, j)
        owner = self.foreign_owner_slots(j % self.neighbours)
        country = FOREIGN_TOWNS[owner % len(FOREIGN_TOWNS)].country
        model = (bits >> 8) % len(MODELS)
        make, name, _, _ = MODELS[model]
        return Vehicle(
            key=f"vehicle:F{j:08d}",
            index=j,
            country=country,
            plate=num.foreign_plate(country, self.foreign_plate_slots[country](j)),
            make=make,
            model=name,
            colour=(bits >> 24) % len(COLOURS),
            year=2008 + (bits >> 16) % 19,
            owner=owner,
            stolen=False,
            model_index=model,
            vin_slot=self.vin_slots(self.vehicles + j),
        )

    def vehicle_by_key(self, key: str) -> Vehicle:
        index = int(key[9:])
        return self.vehicle(index) if key[8] == "B" else self.foreign_vehicle(index)

    def _organisation(self, k: int) -> Organisation:
        rng = self._rng("organisation", k)
        director = self.director_slots(k % self.cast)
        person = self.resident(director)
        form = rng.choice(COMPANY_FORMS)[0 if person.language == "nl" else 1]
        return Organisation(
            key=f"organisation:{k:06d}",
            index=k,
            name=form.format(s=person.surname),
            enterprise_number=num.enterprise_number(self.company_slots(k)),
            director=director,
        )

    def organisation_of(self, person: int) -> int | None:
        """The company a person of interest runs, if any."""
        if person >= self.cast:
            return None
        k = self.director_slots.inverse(person)
        return k if k < self.organisations else None

    def describe(self, key: str) -> dict[str, Any]:
        """What the ground truth says of an entity besides where it appears."""
        kind = key.split(":", 1)[0]
        if kind == "person":
            p = self.person(key)
            identifiers = {
                "national_number": p.national_number,
                "bis_number": p.bis_number,
                "licence_number": p.licence,
                "travel_document": p.document[1],
                "identity_card": p.identity_card,
                "seaman_book": p.seaman_book if key[7] == "T" else None,
                "immigration_reference": p.immigration_ref,
                "visa_number": p.visa,
                "email": p.email,
            }
            return {
                "kind": "person",
                "name": p.display,
                "birth_date": p.birth.isoformat(),
                "nationality": p.nationality,
                "identifiers": {name: value for name, value in identifiers.items() if value},
                "aliases": list(p.aliases),
                "phones": [phone.key for phone in p.phones],
                "accounts": [account.key for account in p.accounts],
                "vehicles": [self._vehicle_key(p, j) for j in p.vehicles],
            }
        if kind == "vehicle":
            v = self.vehicle_by_key(key)
            owner_segment = "R" if v.country == "BE" else "N"
            return {
                "kind": "vehicle",
                "name": v.description,
                "country": v.country,
                "identifiers": {"plate": num.plate_compact(v.plate), "vin": v.vin},
                "owner": f"person:{owner_segment}{v.owner:08d}",
            }
        if kind == "phone":
            # From the key alone (as the holder's derivation computes it), but a fixed line's zone.
            segment, index = key[6], int(key[7:])  # "phone:M00000042"
            if segment == "L":
                national = next(p.national for p in self.resident(index).phones if p.key == key)
            else:
                national = self.mobile(segment, index)
            holder = f"person:{'T' if segment == 'T' else 'R'}{index:08d}"
            return {"kind": "phone", "identifiers": {"phone": num.e164(national)}, "holder": holder}
        if kind == "account":
            segment, index = key[8], int(key[9:])  # "account:B00000042"
            iban = self.iban(segment, index)
            holder = f"person:N{index:08d}" if segment == "F" else f"person:R{index % self.residents:08d}"
            return {"kind": "bank_account", "identifiers": {"iban": iban}, "holder": holder}
        organisation = self.organisation(int(key.split(":")[1]))
        return {
            "kind": "organisation",
            "name": organisation.name,
            "identifiers": {"enterprise_number": organisation.enterprise_number},
            "director": f"person:R{organisation.director:08d}",
        }

    def _vehicle_key(self, person: Person, j: int) -> str:
        return f"vehicle:{'F' if person.key[7] == 'N' else 'B'}{j:08d}"

    def mobile(self, segment: str, index: int) -> str:
        """A mobile number by its key: M (a resident's), P (a person of interest's prepaid), T (a
        traveller's)."""
        offset = {"M": 0, "P": self.residents, "T": self.residents + self.cast}[segment]
        return num.mobile_number(self.mobile_slots(offset + index))

    def iban(self, segment: str, index: int) -> str:
        """An account by its key: B (Belgian: a resident's first, second or mule account), F (a
        neighbour's, in their country)."""
        if segment == "F":
            country = FOREIGN_TOWNS[index % len(FOREIGN_TOWNS)].country
            return num.foreign_iban(country, self.foreign_account_slots(index))
        return num.belgian_iban(self.account_slots(index))
