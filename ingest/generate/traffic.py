"""Mercurius driving licences (CSV) and Cross Border Exchange fines for foreign vehicles (CSV)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from ingest.generate import numbers as num
from ingest.generate.context import Context, comma_name, dmy
from ingest.generate.exports import CsvExport
from ingest.generate.roads import ROADS
from ingest.generate.world import moment

# -- Mercurius ----------------------------------------------------------------------------------------------
MERCURIUS_HEADER = (
    "rijbewijsnummer",
    "rijksregisternummer",
    "naam",
    "geboortedatum",
    "categorieen",
    "status",
    "geldig_van",
    "geldig_tot",
    "reden",
    "instantie",
    "referentie",
)
CATEGORIES = ("B", "B", "B", "AM,B", "A,B", "B,BE", "B,C,CE", "A,B,BE", "AM,A2,B")
BAN_REASONS = {
    "nl": ("Rijden onder invloed (0,{n} mg/l)", "Snelheidsovertreding +{n} km/u, herhaling", "Vluchtmisdrijf",
           "Rijden zonder verzekering"),
    "fr": ("Conduite sous influence (0,{n} mg/l)", "Excès de vitesse +{n} km/h, récidive", "Délit de fuite",
           "Défaut d'assurance"),
}  # fmt: skip
COURTS = {"nl": "Politierechtbank {town}", "fr": "Tribunal de police de {town}"}


def write_mercurius(ctx: Context, path: Path) -> int:
    budget, world, population, truth = ctx.world.counts["mercurius"], ctx.world, ctx.population, ctx.truth
    rng = world.rng("mercurius")
    with CsvExport(path, MERCURIUS_HEADER, ";") as export:
        person_index = 0
        while export.rows < budget:
            person = population.resident(person_index % population.residents)
            person_index += 1
            if person.licence is None or person.national_number is None:
                continue
            for row in _licence_history(
                rng, world.end, person.index < population.cast, person.birth, person.language
            ):
                if export.rows >= budget:
                    break
                surname, given = person.spell(rng, 0.97, all_given=True)
                written = f"{surname.upper()} {given}"
                row.update(
                    rijbewijsnummer=person.licence,
                    rijksregisternummer=num.format_national_number(person.national_number),
                    naam=written,
                    geboortedatum=dmy(person.birth),
                )
                if row["status"] == "VERVAL":
                    row["referentie"] = f"PR/{row['geldig_van'][-4:]}/{export.rows + 1:06d}"
                ref = truth.ref(
                    "mercurius", "licence_status", person.licence, person.licence, row["geldig_van"]
                )
                ctx.see_person(ref, person, written)
                export.write(row)
    return export.rows


def _licence_history(
    rng: random.Random, today: date, risky: bool, birth: date, language: str
) -> list[dict[str, str]]:
    """A licence's periods: valid ones renewed every ten years, with a driving ban or a suspension cut
    in for some."""
    language = language if language in BAN_REASONS else "fr"
    obtained = birth.replace(year=birth.year + 18, day=min(birth.day, 28)) + timedelta(
        days=rng.randint(30, 3000)
    )
    if obtained >= today:
        obtained = today - timedelta(days=rng.randint(10, 200))
    categories = rng.choice(CATEGORIES)
    bounds = [obtained]
    while _ten_years_after(bounds[-1]) < today:
        bounds.append(_ten_years_after(bounds[-1]))
    periods: list[dict[str, str]] = []
    for index, start in enumerate(bounds):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        periods.append(_period(start, end, "GELDIG", categories))
    ban_start = obtained + timedelta(days=rng.randint(200, max(201, (today - obtained).days - 30)))
    if rng.random() < (0.4 if risky else 0.04) and ban_start < today:
        ban_end = ban_start + timedelta(days=rng.choice((8, 15, 30, 90, 180, 365)))
        status = "VERVAL" if rng.random() < 0.85 else "GESCHORST"
        reason = rng.choice(BAN_REASONS[language]).format(n=rng.randint(22, 95))
        town = (
            rng.choice(("Antwerpen", "Gent", "Brussel", "Leuven", "Limburg"))
            if language == "nl"
            else rng.choice(("Liège", "Namur", "Charleroi", "Bruxelles", "Mons"))
        )
        ban = _period(ban_start, ban_end, status, categories)
        ban.update(reden=reason, instantie=COURTS[language].format(town=town))
        periods = _cut(periods, ban, ban_start, ban_end if ban_end < today else None, categories)
    elif rng.random() < 0.01:
        withdrawn = today - timedelta(days=rng.randint(30, 700))
        last = _period(max(withdrawn, bounds[-1] + timedelta(days=1)), None, "INGETROKKEN", categories)
        last["reden"] = "Medische ongeschiktheid" if language == "nl" else "Inaptitude médicale"
        last["instantie"] = "FOD Mobiliteit" if language == "nl" else "SPF Mobilité"
        periods[-1]["geldig_tot"] = last["geldig_van"]
        periods.append(last)
    return periods


def _ten_years_after(day: date) -> date:
    return day.replace(year=day.year + 10, day=min(day.day, 28) if day.month == 2 else day.day)


def _period(start: date, end: date | None, status: str, categories: str) -> dict[str, str]:
    return {
        "categorieen": categories,
        "status": status,
        "geldig_van": dmy(start),
        "geldig_tot": dmy(end) if end else "",
        "reden": "",
        "instantie": "FOD Mobiliteit",
        "referentie": "",
    }


def _cut(
    periods: list[dict[str, str]], ban: dict[str, str], start: date, end: date | None, categories: str
) -> list[dict[str, str]]:
    """Insert a ban into the valid periods: the period it falls in ends when the ban starts and, if the
    ban is over, a new valid period begins when it ends."""
    out: list[dict[str, str]] = []
    for period in periods:
        begin = _parse(period["geldig_van"])
        finish = _parse(period["geldig_tot"]) if period["geldig_tot"] else None
        if begin <= start and (finish is None or start < finish):
            if begin < start:
                out.append({**period, "geldig_tot": dmy(start)})
            out.append({**ban, "geldig_tot": dmy(end) if end else ""})
            if end is not None and (finish is None or end < finish):
                out.append({**period, "geldig_van": dmy(end)})
        else:
            out.append(period)
    return out


def _parse(text: str) -> date:
    day, month, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


# -- Cross Border Exchange ----------------------------------------------------------------------------------
CBE_HEADER = (
    "reference",
    "offence_date",
    "country",
    "plate",
    "owner_name",
    "owner_birth_date",
    "owner_street",
    "owner_postcode",
    "owner_city",
    "offence_code",
    "offence",
    "measured_speed",
    "speed_limit",
    "amount",
    "currency",
    "status",
    "unit",
    "paid_from_iban",
)
CBE_OFFENCES = (
    ("11.2.1", "Speeding / Excès de vitesse / Snelheidsovertreding", None),
    ("61.1.1", "Red light / Feu rouge / Rood licht", 174.0),
    ("8.4.1", "Mobile phone while driving / GSM au volant", 174.0),
    ("35.1.1", "No seat belt / Ceinture non attachée", 116.0),
)


def write_cross_border_exchange(ctx: Context, path: Path) -> int:
    budget, world, population, truth = (
        ctx.world.counts["cross_border_exchange"],
        ctx.world,
        ctx.population,
        ctx.truth,
    )
    rng = world.rng("cross_border_exchange")
    sites = [(road, site) for road in ROADS for site in road.sites]
    with CsvExport(path, CBE_HEADER, ",") as export:
        while export.rows < budget:
            vehicle = population.foreign_vehicle(int(population.foreign_vehicles * rng.random() ** 1.5))
            owner = population.neighbour(vehicle.owner)
            town = owner.town
            assert town is not None
            when = moment(rng, world.day(rng, 1.2), "traffic")
            reference = f"CBE-{when.year}-{vehicle.country}-{export.rows + 1:07d}"
            ref = truth.ref("cross_border_exchange", "fine", reference)
            code, label, fixed = rng.choice(CBE_OFFENCES)
            road, site = rng.choice(sites)
            measured = limit = ""
            if fixed is None:
                speed_limit = site.limit
                speed = speed_limit + rng.randint(7, 45)
                fixed = 53.0 + max(0, speed - speed_limit - 10) * 11.0
                measured, limit = str(speed), str(speed_limit)
            status = rng.choice(("PAID", "PAID", "OPEN", "SENT_ABROAD"))
            surname, given = owner.spell(rng, 0.85)
            written = comma_name(surname, given)
            row = {
                "reference": reference,
                "offence_date": f"{when:%Y-%m-%d %H:%M}",
                "country": vehicle.country,
                "plate": vehicle.plate,
                "owner_name": written,
                "owner_birth_date": owner.birth.isoformat(),
                "owner_street": f"{owner.street} {owner.house}",
                "owner_postcode": town.postcode,
                "owner_city": town.name,
                "offence_code": code,
                "offence": f"{label} ({road.name} {site.nl})",
                "measured_speed": measured,
                "speed_limit": limit,
                "amount": f"{fixed:.2f}".replace(".", ","),
                "currency": "EUR",
                "status": status,
                "unit": "Federale Wegpolitie / CBE-punt",
                "paid_from_iban": "",
            }
            ctx.see_person(ref, owner, written)
            truth.seen(ref, vehicle.key, vehicle.plate)
            if status == "PAID" and owner.accounts:
                row["paid_from_iban"] = owner.accounts[0].iban
                truth.seen(ref, owner.accounts[0].key, owner.accounts[0].iban)
            export.write(row)
    return export.rows
