"""PacOs (seized items with their barcodes, XML) and ANG (alerts on persons and vehicles, JSON)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from ingest.generate import numbers as num
from ingest.generate.cases import Case
from ingest.generate.context import Context, comma_name
from ingest.generate.entities import COLOURS, Person
from ingest.generate.exports import JsonArrayExport, XmlExport
from ingest.generate.truth import Ref
from ingest.generate.world import at, office_moment

# -- PacOs ------------------------------------------------------------------------------------------------
ITEMS = {  # category: descriptions
    "GSM": ("Samsung Galaxy A54, zwart, met SIM-kaart", "iPhone 13, barst in scherm", "Nokia 105 (prepaid)",
            "Oppo A78",
            "Xiaomi Redmi Note 12", "Samsung A14"),
    "BANKKAART": ("Debetkaart op naam van de verdachte", "Carte bancaire", "Kredietkaart Mastercard"),
    "VOERTUIG": ("Personenwagen", "Bestelwagen", "Véhicule"),
    "GELD": ("Contant geld in omslag, {cash} euro",
             "Argent liquide, {cash} euros"),  # "250 EUR" reads as a plate
    "VERDOVENDE_MIDDELEN": ("Cannabis, {grams} g in vacuümverpakking", "Cocaïne, {grams} g",
                            "XTC-pillen ({grams} st.)"),
    "INFORMATICA": ("Laptop Lenovo ThinkPad T14", "Tablet iPad Air", "USB-stick 64 GB",
                    "Externe harde schijf 2 TB"),
    "DOCUMENTEN": ("Notitieboekje met telefoonnummers", "Faux documents d'identité (3)",
                   "Facturen en contracten"),
    "JUWELEN": ("Gouden halsketting", "Horloge Rolex (vermoedelijk vals)", "Bague en or"),
    "GEREEDSCHAP": ("Koevoet en schroevendraaiers", "Slijpschijf en boormachine", "Pied-de-biche"),
    "FIETS": ("Elektrische fiets Stromer ST3", "Vélo électrique Cube"),
    "KLEDING": ("Zwarte bivakmuts", "Handschoenen en capuchontrui"),
}  # fmt: skip
ITEMS_BY_CASE = {
    "inbraak": ("GEREEDSCHAP", "JUWELEN", "GSM", "KLEDING", "VOERTUIG", "INFORMATICA"),
    "drugs": ("VERDOVENDE_MIDDELEN", "GELD", "GSM", "VOERTUIG", "DOCUMENTEN"),
    "fraude": ("INFORMATICA", "GSM", "BANKKAART", "DOCUMENTEN"),
    "autodiefstal": ("VOERTUIG", "GEREEDSCHAP", "GSM", "INFORMATICA"),
    "geweld": ("KLEDING", "GSM", "DOCUMENTEN"),
    "witwassen": ("GELD", "BANKKAART", "INFORMATICA", "DOCUMENTEN", "VOERTUIG"),
    "diefstal": ("JUWELEN", "FIETS", "GSM", "KLEDING"),
}
STATUSES = ("IN_BEWARING", "IN_BEWARING", "IN_BEWARING", "TERUGGEGEVEN", "VERBEURDVERKLAARD", "VERNIETIGD")


def write_pacos(ctx: Context, path: Path) -> int:
    budget, world, truth, population = ctx.world.counts["pacos"], ctx.world, ctx.truth, ctx.population
    rng = world.rng("pacos")
    attributes = {
        "xmlns": "urn:be:police:pacos:export:1",
        "gegenereerd": f"{world.end.isoformat()}T06:00:00+01:00",
    }
    preamble = "<Metadata><Systeem>PacOs</Systeem><Versie>4.2</Versie></Metadata>"
    with XmlExport(path, "PacosExport", "Inbeslagnames", attributes, preamble) as export:
        seizure = 0
        while export.rows < budget and ctx.cases.count:
            case = ctx.cases.case(seizure % ctx.cases.count)
            # A case's first seizure follows the facts; later ones (house searches) weeks after.
            later = seizure >= ctx.cases.count
            when = office_moment(
                rng, case.moment.date() + timedelta(days=rng.randint(20, 60) if later else 0), 3
            )
            number = f"IB/{when.year}/{seizure + 1:05d}"
            owner = population.resident(rng.choice(case.suspects))
            kinds = ITEMS_BY_CASE[case.kind]
            for category in rng.sample(kinds, k=min(budget - export.rows, rng.randint(1, len(kinds)))):
                barcode = f"PAC{when.year}{export.rows + 1:07d}"
                ref = truth.ref("pacos", "seizure", barcode)
                item = rng.choice(ITEMS[category]).format(
                    cash=f"{rng.randint(3, 90) * 50:,}".replace(",", "."), grams=rng.randint(5, 2500)
                )
                surname, given = owner.spell(rng, 0.9)
                record: dict[str, Any] = {
                    "@barcode": barcode,
                    "@beslagnummer": number,
                    "Datum": f"{when:%d/%m/%Y %H:%M}",
                    "Eenheid": case.unit,
                    "PVNummer": case.pv_number,
                    "Voorwerp": {"@categorie": category, "#text": item},
                    "Aantal": str(
                        rng.randint(2, 6) if category in {"GSM", "DOCUMENTEN"} and rng.random() < 0.2 else 1
                    ),
                    "Bewaarplaats": _storage(rng, case, category),
                    "Status": rng.choice(STATUSES),
                    "Eigenaar": {
                        "Naam": surname.upper(),
                        "Voornaam": given,
                        "Geboortedatum": owner.birth.isoformat(),
                        "INSZ": owner.number,
                    },
                }
                ctx.see_person(ref, owner, comma_name(surname, given))
                remark = (
                    "Inbeslagname bij huiszoeking."
                    if case.language == "nl"
                    else "Saisie lors de la perquisition."
                )
                if category == "VOERTUIG" and owner.vehicles:
                    vehicle = population.vehicle(rng.choice(owner.vehicles))
                    record["Voorwerp"]["#text"] = f"{vehicle.description}, {COLOURS[vehicle.colour][0]}"
                    record["Voertuig"] = {
                        "@merk": vehicle.description,
                        "Nummerplaat": vehicle.plate,
                        "Chassisnummer": vehicle.vin,
                    }
                    truth.seen(ref, vehicle.key, vehicle.plate)
                if category == "GSM":
                    phone = owner.phones[-1]
                    record["Telefoonnummer"] = num.format_phone(phone.national, rng.choice((0, 1, 5)))
                    truth.seen(ref, phone.key, record["Telefoonnummer"])
                if category == "BANKKAART" and owner.accounts:
                    account = owner.accounts[-1]
                    record["Rekeningnummer"] = num.format_iban(account.iban)
                    truth.seen(ref, account.key, record["Rekeningnummer"])
                record["Opmerking"] = f"{remark} {record['Voorwerp']['#text']}"
                export.write("Inbeslagname", record)
            seizure += 1
    return export.rows


def _storage(rng: random.Random, case: Case, category: str) -> str:
    if category == "VOERTUIG":
        return rng.choice(("COIV Brussel", f"Depot {case.unit.split('/')[0]}", "Takeldienst erkend depot"))
    city = case.place.name(case.language)
    return f"Griffie {city}" if case.language == "nl" else f"Greffe {city}"


# -- ANG ---------------------------------------------------------------------------------------------------
MEASURES = {
    "case": ("ARRESTEREN", "INLICHTINGEN", "OBSERVATIE"),
    "missing": ("VERDWIJNING", "BESCHERMING"),
    "removal": ("VERWIJDERING",),
    "licence": ("INTREKKING_RIJBEWIJS",),
}
INSTRUCTIONS = {
    "ARRESTEREN": ("Aanhouden en ter beschikking stellen van het parket.",
                   "Arrêter et mettre à disposition du parquet."),
    "INLICHTINGEN": ("Discreet controleren, verblijfplaats en gezelschap noteren.",
                     "Contrôler discrètement, noter l'adresse et l'entourage."),
    "OBSERVATIE": ("Niet intercepteren, positie melden aan de onderzoekers.",
                   "Ne pas intercepter, signaler la position aux enquêteurs."),
    "VERDWIJNING": ("Bij aantreffen: welzijn nagaan en familie verwittigen.",
                    "En cas de découverte: vérifier le bien-être et prévenir la famille."),
    "BESCHERMING": ("Beschermingsmaatregel: slachtoffer niet alleen laten.",
                    "Mesure de protection: ne pas laisser la victime seule."),
    "VERWIJDERING": ("Overbrengen naar DVZ voor verwijdering.", "Conduire à l'OE en vue de l'éloignement."),
    "INTREKKING_RIJBEWIJS": ("Rijbewijs innemen, rijden verbieden.",
                             "Retirer le permis, interdire la conduite."),
    "INBESLAGNAME": ("Bij aantreffen: voertuig in beslag nemen, 101 verwittigen.",
                     "En cas de découverte: saisir le véhicule, prévenir le 101."),
}  # fmt: skip
REASONS = {
    "inbraak": ("Inbraken in bedrijfsloodsen, bendevorming", "Cambriolages en série"),
    "drugs": ("Vermoedelijke drugshandel", "Trafic de stupéfiants présumé"),
    "fraude": ("Internetoplichting, geldezel", "Escroqueries en ligne, mule financière"),
    "autodiefstal": ("Diefstal van voertuigen", "Vols de véhicules"),
    "geweld": ("Slagen en verwondingen, gewapend", "Coups et blessures, armé"),
    "witwassen": ("Witwassen van criminele opbrengsten", "Blanchiment de capitaux"),
    "diefstal": ("Diefstallen in handelszaken", "Vols dans des commerces"),
}  # fmt: skip


def write_ang(ctx: Context, path: Path) -> int:
    budget, world, truth, population, cases = (
        ctx.world.counts["ang"],
        ctx.world,
        ctx.truth,
        ctx.population,
        ctx.cases,
    )
    rng = world.rng("ang")
    head = {
        "export": {
            "systeem": "ANG",
            "gegenereerd": f"{world.end.isoformat()}T05:00:00+01:00",
            "aantal": budget,
        }
    }
    next_case, stolen = 0, 0
    with JsonArrayExport(path, "signaleringen", head) as export:
        while export.rows < budget:
            number = f"ANG-{world.end.year}-{export.rows + 1:06d}"
            registered = at(
                world.start - timedelta(days=rng.randint(-world.days + 1, 400)),
                rng.randint(7, 18),
                rng.randrange(60),
            )
            pick = rng.random()
            alert: dict[str, Any] = {
                "nummer": number,
                "type": "PERSOON",
                "maatregel": "",
                "instructie": "",
                "reden": "",
                "gevaarlijk": False,
                "autoriteit": "",
                "geldigVan": registered.date().isoformat(),
                "geldigTot": (registered.date() + timedelta(days=365)).isoformat(),
                "registratie": registered.isoformat(),
                "classificatie": 1,
                "eenheid": "",
                "dossiers": [],
                "persoon": None,
                "voertuig": None,
            }
            ref = truth.ref("ang", "alert", number)
            french = rng.random() < 0.35
            vehicle_index: int | None = None
            if pick < 0.45 and next_case < cases.count:
                case = cases.case(next_case)
                next_case += 1
                person = population.resident(case.suspects[0])
                measure = rng.choice(MEASURES["case"])
                alert.update(
                    maatregel=measure,
                    reden=REASONS[case.kind][case.language != "nl"],
                    autoriteit=case.prosecutor,
                    gevaarlijk=case.kind in {"geweld", "drugs"} and rng.random() < 0.5,
                    classificatie=2,
                    eenheid=case.federal_unit,
                    dossiers=[case.number],
                )
                french = case.language != "nl"
                _alert_person(ctx, rng, alert, ref, person, aliases=True)
                if case.vehicle is not None and rng.random() < 0.3:
                    vehicle_index = case.vehicle
            elif pick < 0.6:
                person = population.resident(rng.randrange(population.cast, population.residents))
                alert.update(
                    maatregel=rng.choice(MEASURES["missing"]),
                    reden="Verontrustende verdwijning" if not french else "Disparition inquiétante",
                    autoriteit="Cel Vermiste Personen",
                    eenheid="DSU/Cel Vermiste Personen",
                    geldigTot=None,
                )
                _alert_person(ctx, rng, alert, ref, person)
            elif pick < 0.7:
                person = population.traveller(population.pick_traveller(rng))
                alert.update(
                    maatregel="VERWIJDERING",
                    reden="Bevel om het grondgebied te verlaten"
                    if not french
                    else "Ordre de quitter le territoire",
                    autoriteit="DVZ/OE",
                    eenheid="DVZ/OE",
                )
                _alert_person(ctx, rng, alert, ref, person)
            elif pick < 0.77:
                person = population.resident(population.pick_resident(rng, 0.4))
                alert.update(
                    maatregel="INTREKKING_RIJBEWIJS",
                    reden="Verval van het recht tot sturen"
                    if not french
                    else "Déchéance du droit de conduire",
                    autoriteit="Politierechtbank" if not french else "Tribunal de police",
                    eenheid="FOD Mobiliteit",
                )
                _alert_person(ctx, rng, alert, ref, person)
            elif pick < 0.95:
                # The stolen fleet: vehicle 7 + 211k is the k-th stolen car (see Population._vehicle).
                candidate = 7 + 211 * stolen
                if candidate < population.vehicles:
                    vehicle_index, stolen = candidate, stolen + 1
                    alert.update(
                        type="VOERTUIG",
                        maatregel="INBESLAGNAME",
                        reden="Gestolen voertuig" if not french else "Véhicule volé",
                        autoriteit="Parket" if not french else "Parquet",
                        eenheid="DJSOC",
                        geldigTot=None,
                    )
                else:
                    alert.update(
                        type="VOORWERP",
                        maatregel="INBESLAGNAME",
                        reden="Gestolen vuurwapen (Glock 17)",
                        autoriteit="DJSOC",
                        eenheid="DJSOC",
                    )
            else:
                alert.update(
                    type="VOORWERP",
                    maatregel="INBESLAGNAME",
                    reden=rng.choice(
                        (
                            "Gestolen vuurwapen (FN Browning)",
                            "Document volé: passeport vierge",
                            "Gestolen kunstwerk",
                        )
                    ),
                    autoriteit="DJSOC",
                    eenheid="DJSOC",
                    geldigTot=None,
                )
            if vehicle_index is not None:
                vehicle = population.vehicle(vehicle_index)
                if alert["type"] == "PERSOON" and alert["persoon"] is None:
                    alert["type"] = "VOERTUIG"
                alert["voertuig"] = {
                    "nummerplaat": vehicle.plate,
                    "land": "BE",
                    "chassisnummer": vehicle.vin,
                    "merk": vehicle.description,
                }
                truth.seen(ref, vehicle.key, vehicle.plate)
            alert["instructie"] = (
                INSTRUCTIONS[alert["maatregel"]][french]
                if alert["maatregel"] in INSTRUCTIONS
                else "Bij aantreffen: 101 verwittigen."
            )
            export.write(alert)
    ctx.stolen_alerts = stolen
    return export.rows


def _alert_person(
    ctx: Context, rng: random.Random, alert: dict[str, Any], ref: Ref, person: Person, aliases: bool = False
) -> None:
    surname, given = person.spell(rng, 0.97, all_given=True)
    number = person.number
    alert["persoon"] = {
        "naam": surname.upper(),
        "voornamen": given,
        "geboortedatum": person.birth.isoformat(),
        "rijksregisternummer": num.format_national_number(number) if number else None,
        "nationaliteit": person.nationality,
        "aliassen": list(person.aliases) if aliases else [],
    }
    ctx.see_person(ref, person, f"{surname.upper()}, {given}")
    for alias in alert["persoon"]["aliassen"]:
        ctx.see_person(ref, person, alias)
