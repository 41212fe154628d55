"""A small, realistic set of seized documents (PDF, DOCX, e-mail) for the demo and the tests.

The identifiers planted in them are valid (checked with python-stdnum) and listed with each file, so a
test can ask whether the pipeline found what was planted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from docx import Document
from fpdf import FPDF
from stdnum import iban as std_iban
from stdnum.be import nn as std_nn


def national_number(birth: str, serial: int) -> str:
    """A valid national register number for a birth date YYMMDD (births before 2000)."""
    base = f"{birth}{serial:03d}"
    number = f"{base}{97 - int(base) % 97:02d}"
    return std_nn.format(std_nn.validate(number))


def belgian_iban(account: int) -> str:
    """A valid Belgian IBAN from a ten-digit account number (BBAN check digits, then IBAN's)."""
    bban = f"{account:010d}{int(f'{account:010d}') % 97 or 97:02d}"
    check = std_iban.calc_check_digits(f"BE00{bban}")
    return std_iban.format(f"BE{check}{bban}")


@dataclass
class SampleDocument:
    path: Path
    kind: str
    planted: dict[str, str] = field(default_factory=dict)  # type → normalised value
    words: tuple[str, ...] = ()  # words a search must find it by


SUSPECT_NRN = national_number("850730", 33)
WITNESS_NRN = national_number("920214", 118)
SUSPECT_IBAN = belgian_iban(96123456)
SECOND_IBAN = belgian_iban(3312345678)

PV_TEXT = f"""PROCES-VERBAAL VAN VERHOOR
Politiezone Antwerpen - Dienst Recherche
PV-nummer AN.12.L3.004711/2026

Op dinsdag 3 november 2026 om 14u20 verhoren wij Jan Vandenbossche, geboren te Mechelen op
30 juli 1985, rijksregisternummer {SUSPECT_NRN}, wonende Kloosterstraat 14, 2000 Antwerpen.
De verdachte verklaart dat het voertuig met nummerplaat 1-ABC-123 hem toebehoort, maar dat hij het
op 28 oktober heeft uitgeleend aan een kennis. Hij erkent dat de betalingen voor de leveringen via
rekening {SUSPECT_IBAN} liepen. Hij is bereikbaar op GSM 0470 12 34 56.
De getuige, Sofie Peeters (rijksregisternummer {WITNESS_NRN}), bevestigt de inbraak in de loods.
"""

MAIL_TEXT = f"""Madame, Monsieur,

Suite à notre entretien téléphonique, je vous confirme que le véhicule immatriculé 2-XYZ-987 a été
contrôlé le 2 novembre 2026 à Liège. Le conducteur a effectué plusieurs virements vers le compte
{SECOND_IBAN}. Vous pouvez me joindre au +32 4 223 45 67 ou par courriel.

Cordialement,
Inspecteur principal Marc Dubois
Zone de police de Liège
"""

REPORT_TEXT = """Verslag van de huiszoeking in de Lange Nieuwstraat 88 te Gent.
Bij de huiszoeking werden twee gsm-toestellen en een laptop in beslag genomen. Op een notitie stond het
telefoonnummer 0485 99 88 77 en het e-mailadres k.devries@voorbeeld.be. In de garage stond een bestelwagen
met de oude nummerplaat KBR-412, die volgens de ANPR-camera's op 27 oktober op de E40 reed.
"""


def _pdf(path: Path, text: str) -> None:
    pdf = FPDF()
    pdf.set_title("Proces-verbaal van verhoor AN.12.L3.004711/2026")
    pdf.set_author("Politiezone Antwerpen")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in text.splitlines():
        pdf.multi_cell(0, 6, line or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def _docx(path: Path, text: str) -> None:
    document = Document()
    document.core_properties.title = "Verslag huiszoeking Gent"
    document.core_properties.author = "LPA Gent"
    document.add_heading("Verslag huiszoeking", level=1)
    for paragraph in text.split("\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph)
    document.save(str(path))


def _eml(path: Path, text: str) -> None:
    message = EmailMessage()
    message["From"] = "Marc Dubois <marc.dubois@police-liege.example.be>"
    message["To"] = "parquet.liege@just.example.be"
    message["Cc"] = "recherche@police-liege.example.be"
    message["Subject"] = "Contrôle du véhicule 2-XYZ-987"
    message["Date"] = format_datetime(datetime(2026, 11, 4, 9, 15, tzinfo=UTC))
    message["Message-ID"] = "<20261104091500.4711@police-liege.example.be>"
    message.set_content(text)
    path.write_bytes(bytes(message))


def write_sample_documents(folder: Path) -> list[SampleDocument]:
    folder.mkdir(parents=True, exist_ok=True)
    pv = SampleDocument(
        folder / "pv-AN.12.L3.004711-2026.pdf",
        "pdf",
        {
            "nrn": SUSPECT_NRN.replace(".", "").replace("-", ""),
            "iban": SUSPECT_IBAN.replace(" ", ""),
            "plate": "1ABC123",
            "phone": "+32470123456",
        },
        ("verhoor", "Vandenbossche", "loods"),
    )
    _pdf(pv.path, PV_TEXT)
    mail = SampleDocument(
        folder / "controle-2-XYZ-987.eml",
        "email",
        {"plate": "2XYZ987", "iban": SECOND_IBAN.replace(" ", ""), "phone": "+3242234567"},
        ("véhicule", "virements", "Liège"),
    )
    _eml(mail.path, MAIL_TEXT)
    report = SampleDocument(
        folder / "verslag-huiszoeking-gent.docx",
        "docx",
        {"phone": "+32485998877", "email": "k.devries@voorbeeld.be", "plate": "KBR412"},
        ("huiszoeking", "bestelwagen"),
    )
    _docx(report.path, REPORT_TEXT)
    return [pv, mail, report]
