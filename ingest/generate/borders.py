"""Belvis visa checks (XML), Raavis reports to the Immigration Office (CSV), and the border checks of
Aquatask (sea ports, JSON) and Aerotask (airports, JSON array).

The same travellers recur: a seafarer is checked at every call of his vessel until the crew rotates, a
traveller refused at Zaventem turns up in a Raavis report in Schaerbeek with the same OE reference and
BIS number, and Belgian residents fly out of Charleroi with their eID and phone on the passenger list.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from ingest.generate import numbers as num
from ingest.generate.cases import local_unit
from ingest.generate.context import Context, comma_name, dmy
from ingest.generate.entities import Person
from ingest.generate.exports import CsvExport, JsonArrayExport, XmlExport
from ingest.generate.places import AIRPORTS, FLIGHTS, PORTS, STREETS, VESSELS, municipalities
from ingest.generate.truth import Ref
from ingest.generate.world import moment

# -- Belvis --------------------------------------------------------------------------------------------------
POSTS = (
    *AIRPORTS.values(),
    ("Haven Antwerpen", "SPN Antwerpen"),
    ("Haven Zeebrugge", "Federale Scheepvaartpolitie"),
    ("Dienst Vreemdelingenpolitie Brussel", "PZ Brussel-Hoofdstad-Elsene"),
    ("Eurostar Brussel-Zuid", "SPC Brussel"),
)
DECISIONS = (
    ("TOEGANG_VERLEEND", 70),
    ("TOEGANG_GEWEIGERD", 10),
    ("DOORVERWEZEN_DVZ", 12),
    ("AANGEHOUDEN", 8),
)


def write_belvis(ctx: Context, path: Path) -> int:
    budget, world, population, truth = ctx.world.counts["belvis"], ctx.world, ctx.population, ctx.truth
    rng = world.rng("belvis")
    with XmlExport(path, "BelvisExport", "Controles", {"versie": "2.0"}) as export:
        while export.rows < budget:
            person = population.traveller(population.pick_traveller(rng))
            when = moment(rng, world.day(rng), "border")
            check = f"BLV-{when:%Y-%m}-{export.rows + 1:06d}"
            ref = truth.ref("belvis", "visa_check", check)
            post, unit = rng.choice(POSTS)
            decision = rng.choices([d for d, _ in DECISIONS], weights=[w for _, w in DECISIONS])[0]
            known = person.bis_number is not None
            surname, given = person.spell(rng, 0.8)
            record: dict[str, Any] = {
                "@id": check,
                "Tijdstip": f"{when:%d/%m/%Y %H:%M}",
                "Post": post,
                "Persoon": {
                    "Naam": surname.upper(),
                    "Voornaam": given,
                    "Geboortedatum": dmy(person.birth, "."),
                    "Nationaliteit": person.nationality,
                    "BIS": num.format_national_number(person.bis_number)
                    if known and person.bis_number
                    else None,
                },
                "Reisdocument": {"@type": "P", "#text": person.document[1]},
                "Visum": {"@nummer": person.visa, "@type": rng.choice("CCCD")} if person.visa else None,
                "Resultaten": {
                    "AFIS": "HIT"
                    if known and rng.random() < 0.8
                    else rng.choice(("GEEN_HIT", "GEEN_HIT", "NIET_UITGEVOERD")),
                    "SIS": "HIT"
                    if decision in {"AANGEHOUDEN", "TOEGANG_GEWEIGERD"} and rng.random() < 0.6
                    else "GEEN_HIT",
                    "ANG": "HIT" if decision == "AANGEHOUDEN" and rng.random() < 0.5 else "GEEN_HIT",
                    "Interpol": "HIT" if rng.random() < 0.01 else "GEEN_HIT",
                },
                "Beslissing": decision,
                "Eenheid": unit,
            }
            ctx.see_person(ref, person, comma_name(surname, given))
            export.write("Controle", record)
    return export.rows


# -- Raavis --------------------------------------------------------------------------------------------------
RAAVIS_HEADER = (
    "rapportnummer",
    "dvz_referentie",
    "datum",
    "eenheid",
    "naam",
    "voornaam",
    "geboortedatum",
    "nationaliteit",
    "bis_nummer",
    "verblijfsstatus",
    "beslissing",
    "vasthouding",
    "straat",
    "huisnummer",
    "postcode",
    "gemeente",
    "gsm",
    "relaas",
)
STATUSES = ("ILLEGAAL", "AANVRAAG_LOPEND", "OVERSCHRIJDING_VISUM", "ASIEL", "GEEN_DOCUMENTEN")
RAAVIS_DECISIONS = (
    "BGV",
    "BGV_VASTHOUDING",
    "GEEN_MAATREGEL",
    "OVERBRENGING_CENTRUM",
    "REGULARISATIE_LOPEND",
)
ACCOUNTS = {
    "nl": ("Betrokkene werd bij een controle aangetroffen zonder geldige verblijfsdocumenten.",
           "Betrokkene verklaart sinds {years} jaar in België te verblijven en werkt in het zwart.",
           "Betrokkene werd aangetroffen bij een controle in een nachtwinkel; geen identiteitsdocumenten.",
           "Betrokkene verklaart een asielaanvraag te hebben ingediend in {country}."),
    "fr": ("Intéressé interpellé lors d'un contrôle routier, sans titre de séjour valable.",
           "Intéressé hébergé chez un compatriote; déclare avoir introduit une demande d'asile.",
           "Intéressé contrôlé dans un car-wash, déclare travailler depuis {years} mois sans contrat.",
           "Intéressé déclare être arrivé en Belgique il y a {years} ans via {country}."),
}  # fmt: skip
# Where people without papers are found: the big cities more than anywhere.
HOTSPOTS = (
    "1000",
    "1030",
    "1060",
    "1070",
    "1080",
    "1210",
    "2000",
    "2060",
    "2140",
    "4000",
    "9000",
    "6000",
    "8400",
    "8380",
)


def write_raavis(ctx: Context, path: Path) -> int:
    budget, world, population, truth = ctx.world.counts["raavis"], ctx.world, ctx.population, ctx.truth
    rng = world.rng("raavis")
    hotspots = [place for place in municipalities() if place.postcode in HOTSPOTS]
    with CsvExport(path, RAAVIS_HEADER, ",") as export:
        while export.rows < budget:
            person = population.traveller(population.pick_traveller(rng))
            place = rng.choice(hotspots)
            language = (
                place.language if place.language in {"nl", "fr"} else ("fr" if rng.random() < 0.8 else "nl")
            )
            when = moment(rng, world.day(rng, 1.2), "day")
            number = f"RAAV/{when.year}/{export.rows + 1:06d}"
            ref = truth.ref("raavis", "admin_report", number)
            decision = rng.choice(RAAVIS_DECISIONS)
            surname, given = person.spell(rng, 0.7)
            row = {
                "rapportnummer": number,
                "dvz_referentie": person.immigration_ref or "",
                "datum": f"{when:%d/%m/%Y %H:%M}",
                "eenheid": local_unit(place, language),
                "naam": surname.upper(),
                "voornaam": given,
                "geboortedatum": dmy(person.birth),
                "nationaliteit": person.nationality,
                "bis_nummer": num.format_national_number(person.bis_number) if person.bis_number else "",
                "verblijfsstatus": rng.choice(STATUSES),
                "beslissing": decision,
                "vasthouding": ("ja" if decision == "BGV_VASTHOUDING" else "nee")
                if language == "nl"
                else ("oui" if decision == "BGV_VASTHOUDING" else "non"),
                "straat": rng.choice(STREETS[language]),
                "huisnummer": str(rng.randint(1, 250)),
                "postcode": place.postcode,
                "gemeente": place.name(language),
                "gsm": "",
                "relaas": rng.choice(ACCOUNTS[language]).format(
                    years=rng.randint(1, 9),
                    country=rng.choice(("Italië", "Spanje", "Duitsland", "Frankrijk"))
                    if language == "nl"
                    else rng.choice(("l'Italie", "l'Espagne", "l'Allemagne", "la France")),
                ),
            }
            ctx.see_person(ref, person, comma_name(surname, given))
            if person.phones and rng.random() < 0.6:
                phone = person.phones[0]
                row["gsm"] = num.format_phone(phone.national, rng.choice((0, 1, 5)))
                truth.seen(ref, phone.key, row["gsm"])
            export.write(row)
    return export.rows


# -- Aquatask ------------------------------------------------------------------------------------------------
REMARKS = (
    None,
    None,
    None,
    "Bemanningslid blijft aan boord.",
    "Walverlof toegestaan tot 23u00.",
    "Shore leave granted.",
    "Doorverwezen naar DVZ.",
)


def _crew(ctx: Context, vessel: int, member: int, rotation: int) -> Person:
    """A vessel's crew member: the same people until the crew rotates (every quarter)."""
    population = ctx.population
    return population.traveller(
        (vessel * 7919 + member * 104_729 + rotation * 15_485_863) % population.travellers
    )


def write_aquatask(ctx: Context, path: Path) -> int:
    budget, world, population, truth = ctx.world.counts["aquatask"], ctx.world, ctx.population, ctx.truth
    rng = world.rng("aquatask")
    head = {"aquatask": {"version": "3.1", "exported": f"{world.end.isoformat()}T04:00:00+01:00"}}
    with JsonArrayExport(path, "crossings", head) as export:
        call = 0
        while export.rows < budget:
            call += 1
            vessel_index = rng.randrange(len(VESSELS))
            name, flag, port, ends, ferry = VESSELS[vessel_index]
            arrival = rng.random() < 0.7
            when = moment(rng, world.day(rng), "border")
            rotation = when.toordinal() // 91
            other = rng.choice(ends)
            voyage = f"{port[2:4]}{rng.randint(100, 999)}{'W' if arrival else 'E'}"
            gendec = f"GD-{port}-{when.year}-{call:05d}"
            people: list[tuple[Person, str]] = [
                (_crew(ctx, vessel_index, m, rotation), "CREW") for m in range(rng.randint(6, 18))
            ]
            if ferry:
                for _ in range(rng.randint(3, 25)):
                    if rng.random() < 0.6:
                        people.append((population.resident(population.pick_resident(rng, 0.1)), "PASSENGER"))
                    else:
                        people.append((population.traveller(population.pick_traveller(rng)), "PASSENGER"))
            for offset, (person, role) in enumerate(people):
                if export.rows >= budget:
                    break
                check = f"AQT-{port}-{when.year}-{export.rows + 1:07d}"
                ref = truth.ref("aquatask", "border_check", check)
                surname, given = person.spell(rng, 0.8)
                seaman = role == "CREW" and person.key[7] == "T" and rng.random() < 0.7
                result = "OK" if rng.random() < 0.95 else rng.choice(("HIT_SIS", "REFUSED"))
                record = {
                    "checkId": check,
                    "port": PORTS[port],
                    "vessel": {"name": name, "imo": num.imo_number(vessel_index), "flag": flag},
                    "voyage": voyage,
                    "direction": "ARRIVAL" if arrival else "DEPARTURE",
                    "checkedAt": when.replace(minute=(when.minute + offset) % 60).isoformat(),
                    "gendec": gendec if role == "CREW" else None,
                    "person": {
                        "role": role,
                        "surname": surname.upper(),
                        "givenNames": given,
                        "dateOfBirth": person.birth.isoformat(),
                        "nationality": person.nationality,
                        "document": {
                            "type": "SEAMAN_BOOK" if seaman else "PASSPORT",
                            "number": person.seaman_book if seaman else person.document[1],
                        },
                    },
                    "from": other if arrival else port,
                    "to": port if arrival else other,
                    "result": result,
                    "remarks": rng.choice(REMARKS) if role == "CREW" else None,
                }
                ctx.see_person(ref, person, comma_name(surname, given))
                export.write(record)
    return export.rows


# -- Aerotask ------------------------------------------------------------------------------------------------
BELGIAN_CARRIERS = {"Brussels Airlines", "TUI fly Belgium"}


def write_aerotask(ctx: Context, path: Path) -> int:
    budget, world, population = ctx.world.counts["aerotask"], ctx.world, ctx.population
    rng = world.rng("aerotask")
    with JsonArrayExport(path) as export:
        while export.rows < budget:
            flight, carrier, airport, other = rng.choice(FLIGHTS)
            outbound = rng.random() < 0.5
            when = moment(rng, world.day(rng, 1.3), "border")
            private = carrier.startswith("Private")
            gendec = f"GD-{airport}-{when:%Y%m%d}-{flight}"
            people: list[tuple[Person, str]] = []
            for _ in range(rng.randint(2, 5) if not private else 2):
                people.append(
                    (_crew_member(ctx, rng, carrier in BELGIAN_CARRIERS or private, when.year), "CREW")
                )
            for _ in range(rng.randint(4, 30) if not private else rng.randint(1, 4)):
                if rng.random() < 0.6:
                    people.append((population.resident(population.pick_resident(rng, 0.15)), "PAX"))
                else:
                    people.append((population.traveller(population.pick_traveller(rng)), "PAX"))
            for person, role in people:
                if export.rows >= budget:
                    break
                _aerotask_row(
                    ctx,
                    rng,
                    export,
                    person,
                    role,
                    flight,
                    carrier,
                    airport,
                    other,
                    outbound,
                    when,
                    gendec,
                    private,
                )
    return export.rows


def _crew_member(ctx: Context, rng: random.Random, belgian: bool, year: int) -> Person:
    """Flight crew: of working age, Belgian residents on Belgian carriers."""
    population = ctx.population
    for _ in range(8):
        person = (
            population.resident(rng.randrange(population.residents))
            if belgian
            else population.traveller(rng.randrange(population.travellers))
        )
        if 21 <= year - person.birth.year <= 60:
            break
    return person


def _aerotask_row(
    ctx: Context,
    rng: random.Random,
    export: JsonArrayExport,
    person: Person,
    role: str,
    flight: str,
    carrier: str,
    airport: str,
    other: str,
    outbound: bool,
    when: Any,
    gendec: str,
    private: bool,
) -> None:
    truth = ctx.truth
    check = f"AER-{airport}-{when.year}-{export.rows + 1:07d}"
    ref: Ref = truth.ref("aerotask", "border_check", check)
    surname, given = person.spell(rng, 0.8)
    written = comma_name(surname, given)
    resident = person.key[7] == "R"
    card = person.identity_card if person.nationality == "BEL" and rng.random() < 0.5 else None
    number = (
        person.number
        if (resident and rng.random() < 0.5) or (person.bis_number and rng.random() < 0.3)
        else None
    )
    phone = person.phones[0] if person.phones and role == "PAX" and rng.random() < 0.25 else None
    record = {
        "id": check,
        "flight": flight,
        "carrier": carrier,
        "airport": airport,
        "dir": "OUT" if outbound else "IN",
        "ts": f"{when:%d-%m-%Y %H:%M}",
        "paxType": role,
        "gendec": gendec if role == "CREW" or private else None,
        "traveller": {
            "name": written,
            "dob": person.birth.isoformat(),
            "nationality": person.nationality,
            "nrn": num.format_national_number(number) if number else None,
        },
        "doc": {"kind": "ID", "no": _eid(card)} if card else {"kind": "P", "no": person.document[1]},
        "route": {"from": airport if outbound else other, "to": other if outbound else airport},
        "outcome": "OK" if rng.random() < 0.93 else rng.choice(("HIT_SIS", "SECONDARY", "REFUSED")),
        "phone": num.format_phone(phone.national, rng.choice((0, 2, 3))) if phone else None,
    }
    ctx.see_person(ref, person, written)
    if phone is not None:
        truth.seen(ref, phone.key, str(record["phone"]))
    export.write(record)


def _eid(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"
