"""The standardised requisition document, as a PDF in Dutch or French, made when the magistrate approves.

The font is DejaVu Sans (Debian `fonts-dejavu-core`): names keep their accents (Sœur, Çelik, Ødegaard).
The creation date is the moment of the decision, so the same requisition always gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from case_store.requisitions import RequisitionView

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

TEXT = {
    "nl": {
        "authority": "Openbaar Ministerie — vordering van de magistraat",
        "title": {
            "nbb_cpc_accounts": "Vordering tot raadpleging van het Centraal Aanspreekpunt (CAP) "
            "van de Nationale Bank van België",
            "telecom_subscriber": "Vordering tot identificatie van een abonnee bij een operator",
            "vehicle_registration": "Vordering tot inlichtingen over een inschrijving van een voertuig",
        },
        "reference": "Referentie",
        "case": "Dossier",
        "basis": "Wettelijke grondslag",
        "subject": "Betrokkene",
        "number": "Nummer",
        "period": "Periode",
        "whole": "volledige bewaartermijn",
        "reason": "Motivering",
        "ask": {
            "nbb_cpc_accounts": "De magistraat vordert het CAP mee te delen welke bankrekeningen en "
            "financiële contracten de betrokkene in de genoemde periode aanhield, "
            "als titularis of gevolmachtigde, met bank, openings- en afsluitdatum en soort contract.",
            "telecom_subscriber": "De magistraat vordert de identificatiegegevens van de abonnee.",
            "vehicle_registration": "De magistraat vordert de inschrijvingsgegevens van het voertuig.",
        },
        "drafted": "Opgesteld door",
        "decided": "Goedgekeurd door",
        "on": "op",
        "deadline": "Uiterste datum van uitvoering",
        "footer": "Opgemaakt door Speurder; de SHA-256 van dit document wordt bij de vordering bewaard.",
    },
    "fr": {
        "authority": "Ministère public — réquisition du magistrat",
        "title": {
            "nbb_cpc_accounts": "Réquisition de consultation du Point de contact central (PCC) "
            "de la Banque nationale de Belgique",
            "telecom_subscriber": "Réquisition d'identification d'un abonné auprès d'un opérateur",
            "vehicle_registration": "Réquisition d'informations sur l'immatriculation d'un véhicule",
        },
        "reference": "Référence",
        "case": "Dossier",
        "basis": "Base légale",
        "subject": "Personne concernée",
        "number": "Numéro",
        "period": "Période",
        "whole": "toute la durée de conservation",
        "reason": "Motivation",
        "ask": {
            "nbb_cpc_accounts": "Le magistrat requiert le PCC de communiquer les comptes bancaires et "
            "contrats financiers que la personne concernée détenait pendant la période "
            "indiquée, comme titulaire ou mandataire, avec la banque, les dates d'ouverture "
            "et de clôture et le type de contrat.",
            "telecom_subscriber": "Le magistrat requiert les données d'identification de l'abonné.",
            "vehicle_registration": "Le magistrat requiert les données d'immatriculation du véhicule.",
        },
        "drafted": "Rédigée par",
        "decided": "Approuvée par",
        "on": "le",
        "deadline": "Date limite d'exécution",
        "footer": "Établi par Speurder ; le SHA-256 de ce document est conservé avec la réquisition.",
    },
}


class FontMissing(RuntimeError):
    pass


def render_requisition(requisition: RequisitionView) -> bytes:
    """The approved requisition as a PDF in its own language."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise FontMissing(f"the DejaVu fonts are missing from {FONT_DIR}: install fonts-dejavu-core")
    words = TEXT[requisition.language]
    pdf = FPDF(format="A4")
    pdf.set_creation_date(requisition.decided_at or requisition.drafted_at)
    pdf.set_title(f"{requisition.reference} — {requisition.case_number}")
    pdf.set_author("Speurder")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()

    def line(text: str, size: int = 10, style: str = "", gap: float = 1.5) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    def field(label: str, value: str) -> None:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(55, 5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    line(words["authority"], 9)
    line(words["title"][requisition.kind], 14, "B", 4)
    field(words["reference"], requisition.reference)
    field(words["case"], requisition.case_number)
    field(words["basis"], requisition.legal_basis)
    field(words["subject"], requisition.subject_name)
    field(words["number"], requisition.subject_number)
    if requisition.period_from or requisition.period_to:
        start = requisition.period_from.isoformat() if requisition.period_from else "…"
        end = requisition.period_to.isoformat() if requisition.period_to else "…"
        field(words["period"], f"{start} — {end}")
    else:
        field(words["period"], words["whole"])
    field(words["deadline"], requisition.deadline.date().isoformat())
    pdf.ln(2)
    line(words["reason"], 11, "B")
    line(requisition.reason)
    line(words["ask"][requisition.kind], gap=4)
    field(
        words["drafted"],
        f"{requisition.drafted_by} {words['on']} {requisition.drafted_at:%Y-%m-%d %H:%M} UTC",
    )
    if requisition.decided_by and requisition.decided_at:
        decided = f"{requisition.decided_by} {words['on']} {requisition.decided_at:%Y-%m-%d %H:%M} UTC"
        field(words["decided"], decided)
        if requisition.decision_note:
            line(requisition.decision_note)
    pdf.ln(6)
    line(words["footer"], 8)
    return bytes(pdf.output())
