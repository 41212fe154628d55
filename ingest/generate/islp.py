"""ISLP: processen-verbaal, immediate collections, hearings and registered information, in one CSV.

Case rows (each case's PV, its hearings, the information that came before) are spread evenly through
the routine work of a police zone: traffic fines, accidents, drink-driving, shoplifting, online fraud.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ingest.generate import narratives
from ingest.generate import numbers as num
from ingest.generate.cases import Case, local_unit, pv_number
from ingest.generate.context import Context, amount, belgian_moment, comma_name, dmy
from ingest.generate.entities import COLOURS, Person
from ingest.generate.exports import CsvExport
from ingest.generate.places import STREETS, Municipality, municipalities
from ingest.generate.places import population_weights as place_weights
from ingest.generate.truth import Ref
from ingest.generate.world import moment, office_moment

HEADER = (
    "Type", "Nummer/Numéro", "Datum feit/Date des faits", "Eenheid/Unité", "Kwalificatie/Qualification",
    "Code",
    "Relaas/Relation", "Naam/Nom", "Geboortedatum/Date de naissance", "Rijksregisternummer/Numéro national",
    "Hoedanigheid/Qualité", "Naam 2/Nom 2", "Geboortedatum 2/Date de naissance 2",
    "Rijksregisternummer 2/Numéro national 2", "Hoedanigheid 2/Qualité 2", "Nummerplaat/Plaque", "Land/Pays",
    "GSM", "Rekening/Compte", "Straat/Rue", "Nr", "Postcode", "Gemeente/Commune", "Bedrag/Montant",
    "Betaald/Payé", "Ref. PV/Réf. PV", "Salduz", "Betrouwbaarheid/Fiabilité", "Notitienummer/Notice parquet",
    "Dossier", "Classificatie",
)  # fmt: skip
KIND = {
    "PV": "pv",
    "OI": "fine",
    "PI": "fine",
    "VERHOOR": "hearing",
    "AUDITION": "hearing",
    "INFO": "information",
    "INFORMATION": "information",
}
OFFENCES = {  # case kind: code, nl, fr, de
    "inbraak": ("44.01", "Diefstal met braak", "Vol avec effraction", "Einbruchdiebstahl"),
    "drugs": ("55.02", "Drugs - handel", "Stupéfiants - trafic", "Drogenhandel"),
    "fraude": ("47.02", "Oplichting via internet", "Escroquerie en ligne", "Internetbetrug"),
    "autodiefstal": ("43.05", "Diefstal van motorvoertuig", "Vol de véhicule", "Fahrzeugdiebstahl"),
    "geweld": (
        "31.01",
        "Opzettelijke slagen en verwondingen",
        "Coups et blessures volontaires",
        "Körperverletzung",
    ),
    "witwassen": ("49.04", "Witwassen", "Blanchiment", "Geldwäsche"),
    "diefstal": ("42.01", "Eenvoudige diefstal", "Vol simple", "Einfacher Diebstahl"),
}
# Routine PVs: code, nl, fr, de, the roles of the two persons ("" none), a vehicle, short accounts.
ROUTINE = {
    "ongeval": ("81.01", "Verkeersongeval met stoffelijke schade",
                "Accident de roulage avec dégâts matériels",
                "Verkehrsunfall mit Sachschaden", "BB", True,
                ("Aanrijding {when} aan de {address} te {place}; geen gewonden.",
                 "Accrochage {when} {address} à {place}; pas de blessés.",
                 "Zusammenstoß {when} in {place}, {address}.")),
    "alcohol": ("82.04", "Rijden onder invloed", "Conduite sous influence", "Trunkenheit am Steuer", "O",
                True,
                ("Bij een alcoholcontrole {when} te {place} blies de bestuurder positief (0,{promille} mg/l "
                 "UAL).",
                 "Lors d'un contrôle {when} à {place}, le conducteur a soufflé positif (0,{promille} mg/l "
                 "AAE).",
                 "Bei einer Kontrolle {when} in {place} war der Atemtest positiv (0,{promille} mg/l).")),
    "verzekering": ("83.02", "Rijden zonder verzekering", "Défaut d'assurance", "Fahren ohne Versicherung",
                    "O", True,
                    ("Het voertuig werd {when} te {place} gecontroleerd; er is geen geldige verzekering.",
                     "Véhicule contrôlé {when} à {place}: pas d'assurance valable.",
                     "Fahrzeug {when} in {place} kontrolliert: keine gültige Versicherung.")),
    "winkel": ("42.03", "Winkeldiefstal", "Vol à l'étalage", "Ladendiebstahl", "VA", False,
               ("Betrokkene werd {when} door de winkelbewaking betrapt met niet-betaalde goederen "
                "({address}, {place}).",
                "L'intéressé a été surpris {when} par la sécurité avec des marchandises impayées "
                "({address}, {place}).",
                "Der Betroffene wurde {when} beim Ladendiebstahl ertappt ({address}, {place}).")),
    "fiets": ("42.05", "Fietsdiefstal", "Vol de vélo", "Fahrraddiebstahl", "A", False,
              ("Aangever meldt de diefstal van zijn elektrische fiets aan het station van {place}, {when}.",
               "Le plaignant signale le vol de son vélo électrique à la gare de {place}, {when}.",
               "Diebstahl eines E-Bikes am Bahnhof {place}, {when}.")),
    "vandalisme": ("51.01", "Vandalisme", "Vandalisme", "Sachbeschädigung", "A", False,
                   ("Beschadiging van een geparkeerde wagen aan de {address} te {place}, {when}.",
                    "Dégradations sur un véhicule stationné {address} à {place}, {when}.",
                    "Beschädigung eines geparkten Fahrzeugs in {place}, {when}.")),
    "gezin": ("36.01", "Intrafamiliaal geweld", "Violence intrafamiliale", "Häusliche Gewalt", "VS", False,
              ("Tussenkomst {when} voor een huiselijke twist aan de {address} te {place}.",
               "Intervention {when} pour une dispute conjugale {address} à {place}.",
               "Einsatz {when} wegen häuslicher Gewalt in {place}, {address}.")),
    "overlast": ("61.02", "Nachtlawaai", "Tapage nocturne", "Nächtliche Ruhestörung", "O", False,
                 ("Klacht {when} wegens luide muziek aan de {address} te {place}.",
                  "Plainte {when} pour musique forte {address} à {place}.",
                  "Beschwerde {when} wegen lauter Musik in {place}, {address}.")),
    "oplichting": ("47.02", "Oplichting via internet", "Escroquerie en ligne", "Internetbetrug", "A", False,
                   ("Aangever betaalde {when} voor een gsm op een tweedehandssite; het toestel werd nooit "
                    "geleverd.",
                    "Le plaignant a payé {when} un téléphone sur un site de seconde main, jamais livré.",
                    "Der Anzeigeerstatter bezahlte {when} ein nie geliefertes Handy.")),
}  # fmt: skip
FINES = (  # code, nl, fr, de, amount (None: by speed)
    ("11.2.1", "Snelheidsovertreding", "Excès de vitesse", "Geschwindigkeitsüberschreitung", None),
    ("61.1.1", "Rood licht genegeerd", "Feu rouge brûlé", "Rotlichtverstoß", 174.0),
    ("8.4.1", "GSM aan het stuur", "GSM au volant", "Handy am Steuer", 174.0),
    ("35.1.1", "Gordel niet gedragen", "Ceinture non attachée", "Nicht angeschnallt", 116.0),
    ("24.1", "Foutparkeren", "Stationnement illicite", "Falschparken", 58.0),
    ("22.2", "Parkeren op het voetpad", "Stationnement sur le trottoir", "Parken auf dem Gehweg", 58.0),
)
LANG = {"nl": 1, "fr": 2, "de": 3}
PROPOSALS = {
    "nl": (
        "Onmiddellijke inning voorgesteld.",
        "Bestuurder betaalt ter plaatse.",
        "Overschrijvingsformulier meegegeven.",
    ),
    "fr": (
        "Perception immédiate proposée.",
        "Le conducteur paie sur place.",
        "Formulaire de virement remis.",
    ),
    "de": ("Sofortige Erhebung vorgeschlagen.", "Der Fahrer zahlt vor Ort."),
}
SALDUZ = {"verdachte": ("III", "IV", "II"), "slachtoffer": ("I",), "getuige": ("I",)}
ROLE_LETTER = {"verdachte": "V", "slachtoffer": "S", "getuige": "G"}
CARE = 0.85  # how often a name is spelled the canonical way


class Islp:
    def __init__(self, ctx: Context, export: CsvExport) -> None:
        self.ctx, self.export = ctx, export
        self.rng = ctx.world.rng("islp")
        self.routine = 0  # routine items written, for their numbers

    # -- a row ----------------------------------------------------------------------------------------
    def _person(self, row: dict[str, str], ref: Ref, person: Person, role: str, slot: str = "") -> None:
        rng = self.rng
        surname, given = person.spell(rng, CARE)
        written = comma_name(surname, given)
        row[f"Naam{slot}/Nom{slot}"] = written
        row[f"Geboortedatum{slot}/Date de naissance{slot}"] = dmy(person.birth)
        if person.number:
            digits = person.number
            row[f"Rijksregisternummer{slot}/Numéro national{slot}"] = (
                num.format_national_number(digits) if rng.random() < 0.85 else digits
            )
        row[f"Hoedanigheid{slot}/Qualité{slot}"] = role
        self.ctx.see_person(ref, person, written)

    def _address(self, row: dict[str, str], street: str, house: str, postcode: str, town: str) -> None:
        row.update({"Straat/Rue": street, "Nr": house, "Postcode": postcode, "Gemeente/Commune": town})

    # -- a case: PV, hearings, information -----------------------------------------------------------
    def case_rows(self, case: Case) -> None:
        ctx, rng = self.ctx, self.rng
        population, truth = ctx.population, ctx.truth
        language = case.language
        offence = OFFENCES[case.kind]
        pv_type = "PV"
        ref = truth.ref("islp", "pv", case.pv_number)
        suspect = population.resident(case.suspects[0])
        victim = population.resident(case.victim)
        row = {
            "Type": pv_type,
            "Nummer/Numéro": case.pv_number,
            "Datum feit/Date des faits": belgian_moment(rng, case.moment),
            "Eenheid/Unité": case.unit,
            "Kwalificatie/Qualification": offence[LANG[language]],
            "Code": offence[0],
            "Notitienummer/Notice parquet": case.parquet_number,
            "Dossier": case.number,
            "Classificatie": str(rng.choice((1, 2, 2))),
        }
        self._person(row, ref, suspect, "V")
        self._person(row, ref, victim, "S" if case.kind in {"geweld", "diefstal"} else "A", " 2")
        self._address(row, case.street, case.house, case.place.postcode, case.place.name(language))
        values = {
            "when": narratives.when(rng, language, case.moment),
            "place": case.place.name(language),
            "address": f"{case.street} {case.house}",
            "suspect": suspect.display,
            "victim": victim.display if rng.random() < 0.5 else "",
        }
        if case.vehicle is not None:
            vehicle = population.vehicle(case.vehicle)
            row["Nummerplaat/Plaque"], row["Land/Pays"] = vehicle.plate, "BE"
            truth.seen(ref, vehicle.key, vehicle.plate)
            values.update(
                make=vehicle.description,
                plate=vehicle.plate,
                vehicle="yes",
                colour=_colour(vehicle.colour, language),
            )
        if case.phone is not None:
            written = num.format_phone(case.phone.national, rng.choice((0, 0, 1, 2)))
            row["GSM"] = written
            truth.seen(ref, case.phone.key, written)
            if rng.random() < 0.5:
                values["phone"] = num.format_phone(case.phone.national, rng.choice((0, 2)))
        if case.account is not None:
            written = num.format_iban(case.account.iban)
            row["Rekening/Compte"] = written
            truth.seen(ref, case.account.key, written)
            values["iban"] = written
        if case.organisation is not None:
            company = population.organisation(case.organisation)
            values.update(
                company=company.name, enterprise=num.format_enterprise_number(company.enterprise_number)
            )
            truth.seen(ref, company.key, company.name)
        row["Relaas/Relation"] = narratives.story(rng, language, case.kind, values)
        self.export.write(row)

        heard = [("verdachte", suspect), ("slachtoffer", victim)]
        if case.witness is not None:
            heard.append(("getuige", population.resident(case.witness)))
        if len(case.suspects) > 1:
            heard.append(("verdachte", population.resident(case.suspects[1])))
        for number in range(1, case.hearings + 1):
            role, person = heard[(number - 1) % len(heard)]
            when = office_moment(rng, case.moment.date() + timedelta(days=rng.randint(0, 5)), 12)
            hearing_number = f"{case.pv_number}/V{number}"
            ref = truth.ref("islp", "hearing", hearing_number)
            salduz = rng.choice(SALDUZ[role])
            row = {
                "Type": "VERHOOR" if language == "nl" else "AUDITION",
                "Nummer/Numéro": hearing_number,
                "Datum feit/Date des faits": belgian_moment(rng, when),
                "Eenheid/Unité": case.unit,
                "Kwalificatie/Qualification": _hearing_title(language, role),
                "Ref. PV/Réf. PV": case.pv_number,
                "Salduz": salduz,
                "Dossier": case.number,
                "Classificatie": "2",
            }
            self._person(row, ref, person, ROLE_LETTER[role])
            row["Relaas/Relation"] = narratives.hearing(rng, language, role, person.display, when, salduz)
            self.export.write(row)

        if case.informed:
            info_number = f"INF/{case.moment.year}/{case.index + 1:06d}"
            ref = truth.ref("islp", "information", info_number)
            row = {
                "Type": "INFO" if language == "nl" else "INFORMATION",
                "Nummer/Numéro": info_number,
                "Datum feit/Date des faits": belgian_moment(rng, ctx.cases.informed_at(case)),
                "Eenheid/Unité": case.federal_unit,
                "Kwalificatie/Qualification": ("Inlichting " if language == "nl" else "Information ")
                + offence[LANG[language]].lower(),
                "Betrouwbaarheid/Fiabilité": rng.choice("ABC") + rng.choice("1234"),
                "Classificatie": "3",
            }
            self._person(row, ref, suspect, "B")
            values = {"suspect": suspect.display, "place": case.place.name(language)}
            if case.vehicle is not None:
                vehicle = population.vehicle(case.vehicle)
                row["Nummerplaat/Plaque"], row["Land/Pays"] = vehicle.plate, "BE"
                truth.seen(ref, vehicle.key, vehicle.plate)
                values.update(
                    vehicle="yes",
                    plate=vehicle.plate,
                    make=vehicle.description,
                    colour=_colour(vehicle.colour, language),
                )
            if case.phone is not None:
                written = num.format_phone(case.phone.national, 0)
                row["GSM"] = written
                truth.seen(ref, case.phone.key, written)
                values["phone"] = written
            row["Relaas/Relation"] = narratives.information(rng, language, case.kind, values)
            self.export.write(row)

    # -- routine work ----------------------------------------------------------------------------------
    def routine_rows(self, room: int) -> int:
        """One routine item (a fine, a PV with perhaps its hearing); at most `room` rows. Returns rows."""
        rng = self.rng
        self.routine += 1
        pick = rng.random()
        if pick < 0.55:
            self._fine()
            return 1
        return self._pv(with_hearing=room > 1 and rng.random() < 0.3)

    def _place(self) -> tuple[Municipality, str, str, str, str]:
        """A municipality, the language of its police, a street and house number, the local unit."""
        rng = self.rng
        place = rng.choices(municipalities(), cum_weights=place_weights())[0]
        language = place.language if place.language in LANG else ("fr" if rng.random() < 0.75 else "nl")
        street = rng.choice(STREETS[language])
        return place, language, street, str(rng.randint(1, 200)), local_unit(place, language)

    def _fine(self) -> None:
        ctx, rng = self.ctx, self.rng
        population, truth = ctx.population, ctx.truth
        place, language, street, house, unit = self._place()
        day = ctx.world.day(rng, 0.8)
        when = moment(rng, day, "day")
        code, *labels, fixed = rng.choice(FINES)
        kind_letter = "OI" if language == "nl" else "PI"
        number = f"{kind_letter}/{day.year}/{self.routine:07d}"
        ref = truth.ref("islp", "fine", number)
        driver = population.resident(population.pick_resident(rng, 0.1))
        offence = labels[LANG[language] - 1]
        observed = narratives.when(rng, language, when)
        text = {
            "nl": f"Vastgesteld {observed} aan de {street} te {place.name(language)}: {offence.lower()}.",
            "fr": f"Constaté {observed}, {street} à {place.name(language)}: {offence.lower()}.",
            "de": f"Festgestellt {observed} in {place.name(language)}, {street}: {offence}.",
        }[language]
        if fixed is None:
            limit = rng.choice((30, 50, 50, 70, 90))
            speed = limit + rng.randint(6, 40)
            fixed = 53.0 + max(0, speed - limit - 10) * 11.0
            text += (
                " "
                + {
                    "nl": f"Snelheid gemeten: {speed} km/u waar {limit} km/u toegelaten is.",
                    "fr": f"Vitesse mesurée: {speed} km/h pour {limit} km/h autorisés.",
                    "de": f"Gemessen: {speed} km/h bei erlaubten {limit} km/h.",
                }[language]
            )
        text += " " + rng.choice(PROPOSALS[language])
        paid = rng.random() < 0.7
        row = {
            "Type": kind_letter,
            "Nummer/Numéro": number,
            "Datum feit/Date des faits": belgian_moment(rng, when),
            "Eenheid/Unité": unit,
            "Kwalificatie/Qualification": offence,
            "Code": code,
            "Relaas/Relation": text,
            "Bedrag/Montant": amount(fixed) if rng.random() < 0.8 else f"€ {fixed:.0f}",
            "Betaald/Payé": {"nl": ("ja", "nee"), "fr": ("oui", "non"), "de": ("ja", "nein")}[language][
                0 if paid else 1
            ],
            "Classificatie": "0",
        }
        if row["Betaald/Payé"] == "nein":
            row["Betaald/Payé"] = "nee"  # the ISLP export only knows Dutch and French flags
        self._person(row, ref, driver, "O")
        self._address(row, street, house, place.postcode, place.name(language))
        if driver.vehicles:
            vehicle = population.vehicle(rng.choice(driver.vehicles))
            row["Nummerplaat/Plaque"], row["Land/Pays"] = vehicle.plate, "BE"
            truth.seen(ref, vehicle.key, vehicle.plate)
        if paid and driver.accounts and rng.random() < 0.4:
            account = driver.accounts[0]
            row["Rekening/Compte"] = num.format_iban(account.iban)
            truth.seen(ref, account.key, row["Rekening/Compte"])
        self.export.write(row)

    def _pv(self, with_hearing: bool) -> int:
        ctx, rng = self.ctx, self.rng
        population, truth = ctx.population, ctx.truth
        place, language, street, house, unit = self._place()
        town = place.name(language)
        kind = rng.choice(tuple(ROUTINE))
        code, nl, fr, de, roles, with_vehicle, texts = ROUTINE[kind]
        night = kind in {"overlast", "gezin", "alcohol", "vandalisme"}
        day = ctx.world.day(rng, 1.5 if night else 1.0)
        when = moment(rng, day, "night" if night else "day")
        number = pv_number(place, ctx.cases.pv_serials(ctx.cases.count + self.routine), day.year)
        ref = truth.ref("islp", "pv", number)
        text = texts[LANG[language] - 1].format(
            when=narratives.when(rng, language, when),
            address=f"{street} {house}",
            place=town,
            promille=rng.randint(22, 95),
        )
        row = {
            "Type": "PV",
            "Nummer/Numéro": number,
            "Datum feit/Date des faits": belgian_moment(rng, when),
            "Eenheid/Unité": unit,
            "Kwalificatie/Qualification": (nl, fr, de)[LANG[language] - 1],
            "Code": code,
            "Classificatie": "1",
        }
        people = []
        for slot, role in zip(("", " 2"), roles, strict=False):
            person = population.resident(population.pick_resident(rng, 0.25 if role in "VO" else 0.0))
            self._person(row, ref, person, role, slot)
            people.append((role, person))
        self._address(row, street, house, place.postcode, town)
        first = people[0][1]
        if with_vehicle and first.vehicles:
            vehicle = population.vehicle(rng.choice(first.vehicles))
            row["Nummerplaat/Plaque"], row["Land/Pays"] = vehicle.plate, "BE"
            truth.seen(ref, vehicle.key, vehicle.plate)
        if kind == "oplichting":
            # The money went to an account of a person of interest: the link an analyst looks for.
            scammer = population.resident(population.pick_cast(rng))
            account = scammer.accounts[-1]
            written = num.format_iban(account.iban)
            row["Rekening/Compte"] = written
            truth.seen(ref, account.key, written)
            text += " " + narratives.extras(rng, language, {"iban": written})
        row["Relaas/Relation"] = text
        self.export.write(row)
        if not with_hearing:
            return 1
        role, person = people[0]
        role_name = {
            "V": "verdachte",
            "O": "verdachte",
            "A": "slachtoffer",
            "B": "getuige",
            "S": "slachtoffer",
        }[role]
        moment_of_hearing = office_moment(rng, day, 14)
        hearing_number = f"{number}/V1"
        ref = truth.ref("islp", "hearing", hearing_number)
        salduz = rng.choice(SALDUZ[role_name])
        hearing = {
            "Type": "VERHOOR" if language == "nl" else "AUDITION",
            "Nummer/Numéro": hearing_number,
            "Datum feit/Date des faits": belgian_moment(rng, moment_of_hearing),
            "Eenheid/Unité": unit,
            "Kwalificatie/Qualification": _hearing_title(language, role_name),
            "Ref. PV/Réf. PV": number,
            "Salduz": salduz,
            "Relaas/Relation": narratives.hearing(
                rng, language, role_name, person.display, moment_of_hearing, salduz
            ),
            "Classificatie": "1",
        }
        self._person(hearing, ref, person, ROLE_LETTER[role_name])
        self.export.write(hearing)
        return 2


def _colour(index: int, language: str) -> str:
    return COLOURS[index][{"nl": 0, "fr": 1, "de": 2}.get(language, 1)]


def _hearing_title(language: str, role: str) -> str:
    titles = {
        "nl": {
            "verdachte": "Verhoor verdachte",
            "slachtoffer": "Verhoor slachtoffer",
            "getuige": "Verhoor getuige",
        },
        "fr": {
            "verdachte": "Audition suspect",
            "slachtoffer": "Audition victime",
            "getuige": "Audition témoin",
        },
        "de": {
            "verdachte": "Vernehmung Beschuldigter",
            "slachtoffer": "Vernehmung Opfer",
            "getuige": "Vernehmung Zeuge",
        },
    }
    return titles.get(language, titles["fr"])[role]


def write_islp(ctx: Context, path: Path) -> int:
    budget = ctx.world.counts["islp"]
    with CsvExport(path, HEADER, ";", bom=True) as export:
        islp = Islp(ctx, export)
        case_rows = sum(ctx.cases.rows_in_islp(c) for c in range(ctx.cases.count))
        next_case, written_cases = 0, 0
        while export.rows < budget:
            room = budget - export.rows
            routine_left = (budget - case_rows) - (export.rows - written_cases)
            # Bresenham: case rows keep pace with the file, so cases are spread through the year's work.
            case_due = written_cases * budget <= export.rows * case_rows
            if next_case < ctx.cases.count and (case_due or routine_left <= 0):
                before = export.rows
                islp.case_rows(ctx.cases.case(next_case))
                written_cases += export.rows - before
                next_case += 1
            else:
                islp.routine_rows(min(room, routine_left))
    return export.rows
