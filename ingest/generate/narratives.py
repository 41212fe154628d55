"""Narratives in Dutch, French and German, assembled from sentence templates with varied vocabulary.

A narrative names an identifier (a plate, a phone, an account) only when it is handed one, always in a
form the text extractor reads, so the ground truth can say exactly which records mention what.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime

DAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
}  # fmt: skip


def when(rng: random.Random, language: str, moment: datetime) -> str:
    """'op dinsdag 3 november 2026 omstreeks 14u20', 'le mardi 3 novembre 2026 vers 14h20', ..."""
    day, month = DAYS[language][moment.weekday()], MONTHS[language][moment.month - 1]
    hour, minute = f"{moment.hour:02d}", f"{moment.minute:02d}"
    if language == "nl":
        about = rng.choice(("omstreeks", "rond", "om"))
        return f"op {day} {moment.day} {month} {moment.year} {about} {hour}u{minute}"
    if language == "fr":
        about = rng.choice(("vers", "aux alentours de", "à"))
        return f"le {day} {moment.day} {month} {moment.year} {about} {hour}h{minute}"
    return f"am {day}, dem {moment.day}. {month} {moment.year}, gegen {hour}.{minute} Uhr"


# Per language and kind: openings, facts, closings. {when} {place} {address} are always given.
_STORIES: dict[str, dict[str, tuple[Sequence[str], Sequence[str], Sequence[str]]]] = {
    "nl": {
        "inbraak": (
            ("{When} werd een inbraak gemeld in {object} aan de {address}.",
             "Aangifte van inbraak in {object} te {place}, {address}, gepleegd {when}.",
             "{When} stellen wij vast dat er werd ingebroken in {object}, {address} te {place}."),
            ("De daders forceerden de achterdeur met een koevoet.",
             "Een raam aan de achterzijde werd ingeslagen.",
             "Het slot van de voordeur werd uitgeboord.",
             "Toegang werd verkregen via een openstaand dakraam.",
             "Er werden juwelen, een laptop en contant geld ontvreemd.",
             "Gestolen: elektrisch gereedschap en koperkabel.",
             "Het alarm ging af maar de daders waren al vertrokken."),
            ("Het labo nam sporen op.", "Camerabeelden van de buurt worden opgevraagd.",
             "Buurtonderzoek loopt.",
             "Het parket werd in kennis gesteld."),
        ),
        "drugs": (
            ("{When} werd aan de {address} te {place} een controle uitgevoerd naar aanleiding van "
             "drugshandel.",
             "Na meerdere meldingen van dealen aan de {address} in {place} werd {when} een actie opgezet."),
            ("Er werd cannabis in kleine zakjes aangetroffen.",
             "Betrokkene had 12 bolletjes cocaïne bij zich.",
             "In de wagen lag een weegschaal en verpakkingsmateriaal.",
             "Er werd een som contant geld in beslag genomen."),
            ("Het parket werd gecontacteerd.", "Een huiszoeking werd bevolen door de onderzoeksrechter.",
             "De telefonie wordt verder onderzocht."),
        ),
        "fraude": (
            ("Aangever meldt {when} slachtoffer te zijn van oplichting via internet.",
             "{When} doet aangever aangifte van phishing: valse sms namens de bank."),
            ("Aangever betaalde voor een tweedehands wagen die nooit geleverd werd.",
             "Via een valse link werden de bankgegevens van aangever buitgemaakt.",
             "Er werden drie overschrijvingen uitgevoerd zonder medeweten van aangever."),
            ("De bank werd verzocht de rekening te blokkeren.", "Een vordering aan het CPC wordt voorbereid.",
             "Het dossier wordt overgemaakt aan de cel economische criminaliteit."),
        ),
        "autodiefstal": (
            ("{When} werd de diefstal gemeld van een voertuig dat geparkeerd stond aan de {address} te "
             "{place}.",
             "Aangever stelt {when} vast dat zijn wagen verdwenen is van de oprit, {address}."),
            ("Er werden glasscherven aangetroffen op de parkeerplaats.",
             "De sleutels werden bij een woninginbraak buitgemaakt.",
             "Vermoedelijk werd de wagen met een relay-aanval ontgrendeld."),
            ("Het voertuig werd gesignaleerd in ANG en SIS.", "De ANPR-camera's werden bevraagd."),
        ),
        "geweld": (
            ("{When} kwam het tot een vechtpartij aan de {address} te {place}.",
             "Melding {when} van slagen en verwondingen voor een café, {address}."),
            ("Het slachtoffer liep een hoofdwonde op en werd naar het ziekenhuis gebracht.",
             "Getuigen verklaren dat de dader met een fles sloeg.", "De dader sloeg op de vlucht te voet."),
            ("Een medisch attest werd opgevraagd.",
             "Het slachtoffer werd doorverwezen naar slachtofferbejegening."),
        ),
        "witwassen": (
            ("In het kader van een financieel onderzoek werden {when} verdachte transacties vastgesteld.",
             "Naar aanleiding van een melding van de CFI werd {when} een onderzoek geopend."),
            ("Er werden contante stortingen van telkens net onder 10.000 euro gedaan.",
             "Gelden werden verder doorgestort naar rekeningen in het buitenland.",
             "De omzet van de zaak staat niet in verhouding tot de stortingen."),
            ("Een vordering aan het CPC van de Nationale Bank wordt opgesteld.",
             "Beslag op de tegoeden werd gevorderd."),
        ),
        "diefstal": (
            ("{When} werd een diefstal gemeld in een handelszaak aan de {address} te {place}.",
             "Aangeefster meldt {when} de diefstal van haar handtas op de markt van {place}."),
            ("De dader nam de kassa mee en vluchtte.", "Er werden parfums en elektronica ontvreemd.",
             "De portefeuille met bankkaart werd gerold in de tram."),
            ("Camerabeelden werden veiliggesteld.", "De bankkaart werd geblokkeerd."),
        ),
    },
    "fr": {
        "inbraak": (
            ("{When}, un cambriolage a été signalé dans {object}, {address} à {place}.",
             "Plainte pour cambriolage de {object} sis {address} à {place}, commis {when}.",
             "{When}, nous constatons une effraction dans {object}, {address}."),
            ("Les auteurs ont forcé la porte arrière au pied-de-biche.",
             "Une fenêtre à l'arrière a été brisée.",
             "Le cylindre de la porte d'entrée a été arraché.",
             "Des bijoux, un ordinateur portable et de l'argent liquide ont été dérobés.",
             "Vol d'outillage électrique et de câbles en cuivre."),
            ("Le labo a relevé des traces.", "Les images de vidéosurveillance sont demandées.",
             "Le parquet a été avisé."),
        ),
        "drugs": (
            ("{When}, un contrôle a été effectué {address} à {place} suite à des faits de trafic de "
             "stupéfiants.",
             "Suite à plusieurs signalements de deal {address} à {place}, une action a été menée {when}."),
            ("Du cannabis conditionné en sachets a été découvert.",
             "L'intéressé détenait 12 boulettes de cocaïne.",
             "Une balance et du matériel de conditionnement se trouvaient dans le véhicule."),
            ("Le parquet a été contacté.", "Une perquisition a été ordonnée par le juge d'instruction."),
        ),
        "fraude": (
            ("Le plaignant déclare {when} être victime d'une escroquerie en ligne.",
             "{When}, plainte pour hameçonnage: faux SMS au nom de la banque."),
            ("Le plaignant a payé un véhicule d'occasion jamais livré.",
             "Trois virements ont été effectués à l'insu du plaignant."),
            ("La banque a été invitée à bloquer le compte.", "Une réquisition au PCC est en préparation."),
        ),
        "autodiefstal": (
            ("{When}, vol d'un véhicule stationné {address} à {place}.",
             "Le plaignant constate {when} la disparition de son véhicule, {address}."),
            ("Des débris de verre ont été retrouvés sur place.",
             "Le véhicule aurait été ouvert par attaque relais."),
            ("Le véhicule a été signalé en BNG et au SIS.", "Les caméras ANPR ont été interrogées."),
        ),
        "geweld": (
            ("{When}, une rixe a éclaté {address} à {place}.",
             "Appel {when} pour coups et blessures devant un café, {address}."),
            ("La victime, blessée à la tête, a été transportée à l'hôpital.",
             "L'auteur a pris la fuite à pied."),
            ("Un certificat médical a été demandé.",
             "La victime a été orientée vers l'assistance aux victimes."),
        ),
        "witwassen": (
            ("Dans le cadre d'une enquête financière, des transactions suspectes ont été constatées {when}.",
             "Suite à une déclaration de la CTIF, une enquête a été ouverte {when}."),
            ("Des dépôts en espèces juste sous 10.000 euros ont été effectués.",
             "Les fonds ont été transférés vers l'étranger."),
            ("Une réquisition au PCC de la Banque nationale est rédigée.",
             "La saisie des avoirs a été requise."),
        ),
        "diefstal": (
            ("{When}, vol signalé dans un commerce {address} à {place}.",
             "La plaignante signale {when} le vol de son sac à main au marché de {place}."),
            ("L'auteur a emporté la caisse et s'est enfui.",
             "Des parfums et de l'électronique ont été dérobés."),
            ("Les images ont été sécurisées.", "La carte bancaire a été bloquée."),
        ),
    },
    "de": {
        "inbraak": (
            ("{When} wurde ein Einbruch in {object} in {place}, {address}, gemeldet.",),
            ("Die Täter hebelten die Hintertür mit einem Brecheisen auf.",
             "Schmuck und Bargeld wurden entwendet."),
            ("Die Spurensicherung wurde hinzugezogen.", "Die Staatsanwaltschaft wurde informiert."),
        ),
        "drugs": (
            ("{When} wurde in {place}, {address}, eine Kontrolle wegen Drogenhandels durchgeführt.",),
            ("Es wurde Cannabis in kleinen Tütchen gefunden.", "Im Fahrzeug lag eine Feinwaage."),
            ("Die Staatsanwaltschaft wurde verständigt.",),
        ),
        "fraude": (
            ("Der Anzeigeerstatter meldet {when} einen Internetbetrug.",),
            ("Ein bezahltes Fahrzeug wurde nie geliefert.",),
            ("Die Bank wurde gebeten, das Konto zu sperren.",),
        ),
        "autodiefstal": (
            ("{When} wurde der Diebstahl eines Fahrzeugs in {place}, {address}, gemeldet.",),
            ("Am Tatort lagen Glassplitter.",),
            ("Das Fahrzeug wurde im SIS ausgeschrieben.",),
        ),
        "geweld": (
            ("{When} kam es in {place}, {address}, zu einer Schlägerei.",),
            ("Das Opfer wurde am Kopf verletzt und ins Krankenhaus gebracht.",),
            ("Ein ärztliches Attest wurde angefordert.",),
        ),
        "witwassen": (
            ("Im Rahmen eines Finanzermittlungsverfahrens wurden {when} verdächtige Überweisungen "
             "festgestellt.",),
            ("Bareinzahlungen knapp unter 10.000 Euro wurden getätigt.",),
            ("Eine Anfrage an die Nationalbank wird vorbereitet.",),
        ),
        "diefstal": (
            ("{When} wurde ein Diebstahl in einem Geschäft in {place}, {address}, gemeldet.",),
            ("Der Täter flüchtete mit der Kasse.",),
            ("Die Videoaufnahmen wurden gesichert.",),
        ),
    },
}  # fmt: skip
_OBJECTS: dict[str, tuple[str, ...]] = {
    "nl": ("een woning", "een loods", "een handelszaak", "een garage", "een appartement", "een bedrijfspand"),
    "fr": ("une habitation", "un entrepôt", "un commerce", "un garage", "un appartement", "des bureaux"),
    "de": ("ein Wohnhaus", "eine Lagerhalle", "ein Geschäft", "eine Garage"),
}
# Optional sentences, used exactly when their value is given.
_EXTRAS: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        "suspect": ("Verdachte {suspect} werd in de omgeving opgemerkt.", "Een getuige herkende {suspect}.",
                    "Als verdachte wordt {suspect} aangeduid."),
        "victim": ("Het slachtoffer is {victim}.", "Aangifte door {victim}."),
        "vehicle": ("Een {colour} {make} met nummerplaat {plate} werd ter plaatse gezien.",
                    "De daders gebruikten een {make} ({plate}).", "Het voertuig {plate} werd opgemerkt."),
        "phone": ("Verdachte is bereikbaar op GSM {phone}.", "Er werd gebeld vanaf het nummer {phone}."),
        "iban": ("De gelden werden gestort op rekening {iban}.", "Betalingen liepen via rekening {iban}."),
        "company": ("De betalingen liepen via de vennootschap {company} (ondernemingsnummer {enterprise}).",),
        "email": ("Contact verliep via {email}.",),
    },
    "fr": {
        "suspect": ("Le suspect {suspect} a été aperçu dans les environs.", "Un témoin a reconnu {suspect}."),
        "victim": ("La victime est {victim}.", "Plainte déposée par {victim}."),
        "vehicle": ("Un véhicule {make} {colour} immatriculé {plate} a été vu sur place.",
                    "Les auteurs utilisaient un {make} ({plate})."),
        "phone": ("Le suspect est joignable au {phone}.", "Les appels provenaient du numéro {phone}."),
        "iban": ("Les fonds ont été versés sur le compte {iban}.",
                 "Les paiements transitaient par le compte {iban}."),
        "company": (
            "Les paiements transitaient par la société {company} (numéro d'entreprise {enterprise}).",
        ),
        "email": ("Le contact se faisait via {email}.",),
    },
    "de": {
        "suspect": ("Der Verdächtige {suspect} wurde in der Nähe gesehen.",),
        "victim": ("Geschädigt ist {victim}.",),
        "vehicle": ("Ein {colour} {make} mit dem Kennzeichen {plate} wurde gesehen.",),
        "phone": ("Der Verdächtige ist unter {phone} erreichbar.",),
        "iban": ("Das Geld wurde auf das Konto {iban} überwiesen.",),
        "company": ("Die Zahlungen liefen über die Firma {company} (Unternehmensnummer {enterprise}).",),
        "email": ("Der Kontakt lief über {email}.",),
    },
}  # fmt: skip
_ORDER = ("suspect", "victim", "vehicle", "phone", "iban", "company", "email")


def _fill(template: str, values: Mapping[str, str]) -> str:
    text = template.format_map(values)
    return text[0].upper() + text[1:]


def story(rng: random.Random, language: str, kind: str, values: Mapping[str, str]) -> str:
    """A PV's account of the facts: opening, one or two facts, the parties and identifiers given in
    `values` (keys of _ORDER), a closing line."""
    language = language if language in _STORIES else "fr"
    openings, facts, closings = _STORIES[language][kind]
    base = {"object": rng.choice(_OBJECTS[language]), **values}
    base["When"] = base["when"]
    sentences = [_fill(rng.choice(openings), base)]
    sentences += rng.sample(list(facts), k=min(len(facts), rng.choice((1, 2))))
    for name in _ORDER:
        if values.get(name):
            sentences.append(_fill(rng.choice(_EXTRAS[language][name]), base))
    if rng.random() < 0.8:
        sentences.append(rng.choice(closings))
    return " ".join(sentences)


def extras(rng: random.Random, language: str, values: Mapping[str, str]) -> str:
    """Only the optional sentences: for short texts (briefings, information reports)."""
    language = language if language in _EXTRAS else "fr"
    return " ".join(_fill(rng.choice(_EXTRAS[language][name]), values) for name in _ORDER if values.get(name))


HEARINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        "verdachte": ("Betrokkene ontkent elke betrokkenheid bij de feiten.",
                      "Betrokkene legt gedeeltelijke bekentenissen af.",
                      "Betrokkene verklaart dat het voertuig hem toebehoort, maar dat hij het had "
                      "uitgeleend.",
                      "Betrokkene beroept zich op zijn zwijgrecht."),
        "slachtoffer": ("Het slachtoffer bevestigt de aangifte en geeft een lijst van de gestolen goederen.",
                        "Het slachtoffer stelt zich burgerlijke partij."),
        "getuige": ("De getuige heeft de daders zien wegrijden.",
                    "De getuige bevestigt de aanwezigheid van de verdachte."),
    },
    "fr": {
        "verdachte": ("L'intéressé nie toute implication dans les faits.",
                      "L'intéressé passe aux aveux partiels.",
                      "L'intéressé fait usage de son droit au silence."),
        "slachtoffer": ("La victime confirme sa plainte et remet la liste des objets volés.",),
        "getuige": ("Le témoin a vu les auteurs s'enfuir.", "Le témoin confirme la présence du suspect."),
    },
    "de": {
        "verdachte": ("Der Beschuldigte bestreitet jede Beteiligung.",),
        "slachtoffer": ("Das Opfer bestätigt die Anzeige.",),
        "getuige": ("Der Zeuge hat die Täter wegfahren sehen.",),
    },
}  # fmt: skip
HEARING_OPENINGS: dict[str, str] = {
    "nl": "Verhoor {when} van {name} in de hoedanigheid van {role}. Salduz-categorie {salduz}; {lawyer}.",
    "fr": "Audition {when} de {name} en qualité de {role}. Catégorie Salduz {salduz}; {lawyer}.",
    "de": "Vernehmung {when} von {name} als {role}. Salduz-Kategorie {salduz}; {lawyer}.",
}
ROLES: dict[str, dict[str, str]] = {
    "nl": {"verdachte": "verdachte", "slachtoffer": "slachtoffer", "getuige": "getuige"},
    "fr": {"verdachte": "suspect", "slachtoffer": "victime", "getuige": "témoin"},
    "de": {"verdachte": "Beschuldigter", "slachtoffer": "Opfer", "getuige": "Zeuge"},
}
LAWYER: dict[str, tuple[str, ...]] = {
    "nl": (
        "bijgestaan door advocaat",
        "afstand van bijstand door een advocaat",
        "voorafgaand vertrouwelijk overleg gehad",
    ),
    "fr": ("assisté de son avocat", "renonce à l'assistance d'un avocat"),
    "de": ("mit Rechtsbeistand", "verzichtet auf einen Anwalt"),
}


def hearing(rng: random.Random, language: str, role: str, name: str, moment: datetime, salduz: str) -> str:
    language = language if language in HEARINGS else "fr"
    opening = HEARING_OPENINGS[language].format(
        when=when(rng, language, moment),
        name=name,
        role=ROLES[language][role],
        salduz=salduz,
        lawyer=rng.choice(LAWYER[language]),
    )
    return f"{opening[0].upper()}{opening[1:]} {rng.choice(HEARINGS[language][role])}"


INFORMATION: dict[str, tuple[str, ...]] = {
    "nl": (
        "Volgens een betrouwbare informant is {suspect} actief in {activity}.",
        "Een bron meldt dat {suspect} regelmatig {activity} organiseert vanuit {place}.",
    ),
    "fr": (
        "Selon un informateur fiable, {suspect} serait actif dans {activity}.",
        "Une source signale que {suspect} organise {activity} depuis {place}.",
    ),
    "de": ("Laut einem Informanten ist {suspect} in {activity} verwickelt.",),
}
ACTIVITIES: dict[str, dict[str, str]] = {
    "nl": {"inbraak": "inbraken in loodsen", "drugs": "de handel in cannabis", "fraude": "internetoplichting",
           "autodiefstal": "diefstal van wagens", "geweld": "afpersing",
           "witwassen": "het witwassen van geld",
           "diefstal": "winkeldiefstallen"},
    "fr": {"inbraak": "des cambriolages d'entrepôts", "drugs": "le trafic de cannabis",
           "fraude": "des escroqueries en ligne",
           "autodiefstal": "des vols de véhicules", "geweld": "du racket",
           "witwassen": "le blanchiment d'argent",
           "diefstal": "des vols à l'étalage"},
    "de": {"inbraak": "Einbrüche", "drugs": "Drogenhandel", "fraude": "Internetbetrug",
           "autodiefstal": "Autodiebstähle",
           "geweld": "Erpressung", "witwassen": "Geldwäsche", "diefstal": "Ladendiebstähle"},
}  # fmt: skip


def information(rng: random.Random, language: str, kind: str, values: Mapping[str, str]) -> str:
    language = language if language in INFORMATION else "fr"
    opening = rng.choice(INFORMATION[language]).format(activity=ACTIVITIES[language][kind], **values)
    rest = extras(rng, language, {name: value for name, value in values.items() if name != "suspect"})
    return f"{opening} {rest}".strip()
