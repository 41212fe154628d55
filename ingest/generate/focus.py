"""FOCUS@GPI: 101 incidents and the briefings for the shifts, one JSON object per line.

Incidents come at night and at weekends more than in office hours; a case's own 101 call is made by its
victim's phone, and its briefing names the suspect, the car and the number to watch."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from ingest.generate import narratives
from ingest.generate import numbers as num
from ingest.generate.cases import Case, local_unit
from ingest.generate.context import Context, comma_name
from ingest.generate.entities import COLOURS, Person
from ingest.generate.exports import NdjsonExport
from ingest.generate.places import STREETS, municipalities
from ingest.generate.places import population_weights as place_weights
from ingest.generate.truth import Ref
from ingest.generate.world import at, moment

INCIDENTS = {  # category: (nl subject, fr subject, night, description nl, description fr)
    "GELUIDSOVERLAST": ("Geluidsoverlast", "Tapage", True, "Luide muziek, buren klagen.",
                        "Musique forte, plainte des voisins."),
    "VERKEERSONGEVAL": ("Verkeersongeval", "Accident de la circulation", False,
                        "Aanrijding met stoffelijke schade, geen gewonden.",
                        "Collision, dégâts matériels, pas de blessés."),
    "VECHTPARTIJ": ("Vechtpartij", "Bagarre", True, "Vechtpartij voor café, een gewonde.",
                    "Bagarre devant un café, un blessé."),
    "VERDACHT_VOERTUIG": ("Verdacht voertuig", "Véhicule suspect", True,
                          "Voertuig rijdt traag door de wijk, inzittenden kijken in auto's.",
                          "Véhicule qui tourne dans le quartier."),
    "DISPARITION": ("Vermissing", "Disparition", False, "Persoon niet thuisgekomen, familie ongerust.",
                    "Personne non rentrée, famille inquiète."),
    "INTRAFAMILIAAL_GEWELD": ("Intrafamiliaal geweld", "Violence intrafamiliale", True,
                              "Ruzie tussen partners, geroep gehoord.", "Dispute conjugale, cris entendus."),
    "DIEFSTAL_VOERTUIG": ("Diefstal voertuig", "Vol de véhicule", True, "Wagen verdwenen van oprit.",
                          "Véhicule disparu de l'allée."),
    "WINKELDIEFSTAL": ("Winkeldiefstal", "Vol à l'étalage", False, "Winkeldief vastgehouden door bewaking.",
                       "Voleur retenu par la sécurité."),
}  # fmt: skip
# Subjects read "Inbraak, en dash, Noorderlaan 147, Antwerpen", as on the FOCUS screens.
DASH = "\u2013"
CASE_CATEGORIES = {
    "inbraak": "INBRAAK",
    "drugs": "DRUGS",
    "autodiefstal": "DIEFSTAL_VOERTUIG",
    "geweld": "VECHTPARTIJ",
    "diefstal": "VOL",
}
BRIEFING_TYPES = ("SEINING", "OPSPORING", "RECHERCHE")


def write_focus(ctx: Context, path: Path) -> int:
    budget, world = ctx.world.counts["focus"], ctx.world
    rng = world.rng("focus")
    next_case = 0
    with NdjsonExport(path) as export:
        while export.rows < budget:
            pick = rng.random()
            if pick < 0.3 and next_case < ctx.cases.count:
                case = ctx.cases.case(next_case)
                next_case += 1
                if case.kind in CASE_CATEGORIES:
                    _case_incident(ctx, rng, export, case)
                if export.rows < budget and rng.random() < 0.5:
                    _briefing(ctx, rng, export, case)
            elif pick < 0.9:
                _incident(ctx, rng, export)
            else:
                _briefing(ctx, rng, export, None)
    return export.rows


def _focus_person(ctx: Context, rng: random.Random, ref: Ref, person: Person, role: str) -> dict[str, Any]:
    surname, given = person.spell(rng, 0.75)
    name = f"{given} {surname}" if rng.random() < 0.5 else comma_name(surname, given)
    ctx.see_person(ref, person, name)
    number = person.number
    return {
        "name": name,
        "birthDate": person.birth.isoformat(),
        "nrn": num.format_national_number(number) if number else None,
        "role": role,
    }


def _location(rng: random.Random, place: Any, language: str, street: str, house: str) -> dict[str, Any]:
    return {
        "street": street,
        "number": house,
        "postcode": place.postcode,
        "city": place.name(language),
        "lat": round(place.lat + rng.uniform(-0.012, 0.012), 5),
        "lon": round(place.lon + rng.uniform(-0.018, 0.018), 5),
    }


def _case_incident(ctx: Context, rng: random.Random, export: NdjsonExport, case: Case) -> None:
    population, truth = ctx.population, ctx.truth
    number = f"F-{case.moment:%Y-%m%d}-{export.rows + 1:06d}"
    ref = truth.ref("focus", "incident", number)
    victim = population.resident(case.victim)
    category = CASE_CATEGORIES[case.kind]
    caller = victim.phones[0]
    caller_written = num.format_phone(caller.national, rng.choice((0, 2, 3)))
    truth.seen(ref, caller.key, caller_written)
    town = case.place.name(case.language)
    subject = {
        "INBRAAK": "Inbraak",
        "DRUGS": "Drugs",
        "DIEFSTAL_VOERTUIG": "Diefstal voertuig",
        "VECHTPARTIJ": "Vechtpartij",
        "VOL": "Vol",
    }[category]
    incident: dict[str, Any] = {
        "type": "INCIDENT",
        "id": number,
        "created": case.moment.isoformat(),
        "priority": 1 if case.kind in {"inbraak", "geweld"} else 2,
        "category": category,
        "status": rng.choice(("LOPEND", "AFGESLOTEN", "AFGESLOTEN")),
        "unit": case.unit.split("/")[0],
        "subject": f"{subject} {DASH} {case.street} {case.house}, {town}",
        "caller": caller_written,
        "location": _location(rng, case.place, case.language, case.street, case.house),
        "description": narratives.story(
            rng,
            case.language,
            case.kind,
            {
                "when": narratives.when(rng, case.language, case.moment),
                "place": town,
                "address": f"{case.street} {case.house}",
            },
        ),
        "dispatched": f"Ploeg {rng.randint(1, 40)}",
        "persons": [],
        "vehicles": [],
    }
    if rng.random() < 0.5:
        incident["persons"].append(_focus_person(ctx, rng, ref, victim, "melder"))
    if rng.random() < 0.4:
        incident["persons"].append(
            _focus_person(ctx, rng, ref, population.resident(case.suspects[0]), "verdachte")
        )
    if case.vehicle is not None and rng.random() < 0.5:
        vehicle = population.vehicle(case.vehicle)
        incident["vehicles"].append({"plate": vehicle.plate, "country": "BE"})
        truth.seen(ref, vehicle.key, vehicle.plate)
    export.write(incident)


def _incident(ctx: Context, rng: random.Random, export: NdjsonExport) -> None:
    world, population, truth = ctx.world, ctx.population, ctx.truth
    category = rng.choice(tuple(INCIDENTS))
    nl, fr, night, text_nl, text_fr = INCIDENTS[category]
    place = rng.choices(municipalities(), cum_weights=place_weights())[0]
    language = (
        place.language if place.language in {"nl", "fr", "de"} else ("fr" if rng.random() < 0.75 else "nl")
    )
    when = moment(rng, world.day(rng, 1.8 if night else 1.0), "night" if night else "day")
    number = f"F-{when:%Y-%m%d}-{export.rows + 1:06d}"
    ref = truth.ref("focus", "incident", number)
    street, house = rng.choice(STREETS[language]), str(rng.randint(1, 150))
    caller = population.resident(population.pick_resident(rng, 0.05))
    caller_phone = caller.phones[0]
    caller_written = num.format_phone(caller_phone.national, rng.choice((0, 2, 3, 4)))
    truth.seen(ref, caller_phone.key, caller_written)
    french = language != "nl"
    incident: dict[str, Any] = {
        "type": "INCIDENT",
        "id": number,
        "created": when.isoformat(),
        "priority": rng.choice((1, 2, 2, 3, 3)),
        "category": category,
        "status": "AFGESLOTEN" if rng.random() < 0.8 else "LOPEND",
        "unit": local_unit(place, language),
        "subject": f"{fr if french else nl} {DASH} {street} {house}, {place.name(language)}",
        "caller": caller_written,
        "location": _location(rng, place, language, street, house),
        "description": text_fr if french else text_nl,
        "dispatched": f"Ploeg {rng.randint(1, 40)}",
        "persons": [],
        "vehicles": [],
    }
    if category in {"VECHTPARTIJ", "INTRAFAMILIAAL_GEWELD", "WINKELDIEFSTAL", "DISPARITION"}:
        person = population.resident(population.pick_resident(rng, 0.3 if category != "DISPARITION" else 0.0))
        role = "vermiste" if category == "DISPARITION" else "verdachte"
        incident["persons"].append(_focus_person(ctx, rng, ref, person, role))
    if category in {"VERKEERSONGEVAL", "VERDACHT_VOERTUIG", "DIEFSTAL_VOERTUIG"}:
        if category == "VERDACHT_VOERTUIG" and rng.random() < 0.3:
            index = population.cast_vehicle(rng)
        elif category == "DIEFSTAL_VOERTUIG" and population.vehicles > 7:
            index = 7 + 211 * rng.randrange(max(1, (population.vehicles - 7) // 211))
        else:
            index = population.pick_vehicle(rng)
        if index is not None:
            vehicle = population.vehicle(index)
            incident["vehicles"].append({"plate": vehicle.plate, "country": "BE"})
            truth.seen(ref, vehicle.key, vehicle.plate)
    export.write(incident)


def _briefing(ctx: Context, rng: random.Random, export: NdjsonExport, case: Case | None) -> None:
    world, population, truth = ctx.world, ctx.population, ctx.truth
    day = (case.moment.date() + timedelta(days=rng.randint(1, 6))) if case else world.day(rng)
    created = at(day, rng.choice((6, 7, 13, 21)), 30)
    number = f"BRF-{day.year}-{export.rows + 1:06d}"
    ref = truth.ref("focus", "briefing", number)
    briefing: dict[str, Any] = {
        "type": "BRIEFING",
        "id": number,
        "created": created.isoformat(),
        "unit": "DirCo",
        "validUntil": (day + timedelta(days=rng.randint(7, 30))).strftime("%d/%m/%Y"),
        "instruction": None,
        "persons": [],
        "vehicles": [],
    }
    if case is None:
        vehicle = population.vehicle(7 + 211 * rng.randrange(max(1, (population.vehicles - 7) // 211)))
        briefing.update(
            subject=f"Gestolen {vehicle.description}",
            briefingType="AANDACHT",
            audience="Alle ploegen",
            description=f"{vehicle.description} {vehicle.plate} gestolen; bij aantreffen 101 verwittigen.",
        )
        briefing["vehicles"].append({"plate": vehicle.plate, "country": "BE"})
        truth.seen(ref, vehicle.key, vehicle.plate)
        export.write(briefing)
        return
    suspect = population.resident(case.suspects[0])
    values: dict[str, str] = {"suspect": suspect.display}
    briefing.update(
        subject=("Gezocht: " if case.language == "nl" else "Recherché: ") + suspect.display,
        briefingType=rng.choice(BRIEFING_TYPES),
        audience=f"Interventie {case.unit.split('/')[0]}",
        instruction="Positie melden, niet intercepteren."
        if case.language == "nl"
        else "Signaler la position, ne pas intercepter.",
    )
    briefing["persons"].append(_focus_person(ctx, rng, ref, suspect, "gezocht"))
    if case.vehicle is not None:
        vehicle = population.vehicle(case.vehicle)
        briefing["vehicles"].append({"plate": vehicle.plate, "country": "BE"})
        truth.seen(ref, vehicle.key, vehicle.plate)
        values.update(
            vehicle="yes",
            make=vehicle.description,
            plate=vehicle.plate,
            colour=COLOURS[vehicle.colour][{"nl": 0, "fr": 1}.get(case.language, 2)],
        )
    if case.phone is not None and rng.random() < 0.6:
        values["phone"] = num.format_phone(case.phone.national, 0)
        truth.seen(ref, case.phone.key, values["phone"])
    briefing["description"] = narratives.extras(rng, case.language, values)
    export.write(briefing)
