"""What became of every file of a batch: progress while it runs, a completeness report when it is done.

The report is what a clerk attaches to the file of a seizure: N of M files indexed, and each file that was
not, with its reason. It is made from the ledger alone and dated by the ledger's last change, so the same
batch always gives the same bytes, and the SHA-256 shown beside the download is the one a reader can
recompute to cite it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from case_store.models import FINAL_STATES, Upload, as_utc

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# The order states are reported in: what went in first, then each kind of "not in".
STATE_ORDER = ("indexed", "duplicate", "encrypted", "unsupported", "failed", "processing", "received")
STATE_LABELS = {
    "indexed": "geïndexeerd",
    "duplicate": "dubbel (zelfde inhoud als een ander bestand)",
    "encrypted": "versleuteld, niet gelezen",
    "unsupported": "formaat niet ondersteund",
    "failed": "mislukt",
    "processing": "in verwerking",
    "received": "ontvangen, wacht",
}
CSV_COLUMNS = (
    "path",
    "file_name",
    "size",
    "sha256",
    "status",
    "reason",
    "note",
    "record_id",
    "evidence_number",
    "uploader",
    "received_at",
)


class FontMissing(RuntimeError):
    pass


@dataclass
class BatchReport:
    batch_id: str
    rows: list[dict[str, Any]]
    as_of: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def files(self) -> int:
        return len(self.rows)

    @property
    def complete(self) -> bool:
        return all(row["status"] in FINAL_STATES for row in self.rows)


def _stamp(moment: datetime | None) -> str:
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def batch_report(batch_id: str, uploads: Sequence[Upload]) -> BatchReport:
    """The report's content from the batch's ledger rows (in the order they were received)."""
    rows = [
        {
            "path": upload.path,
            "file_name": upload.file_name,
            "size": upload.size,
            "sha256": upload.sha256,
            "status": upload.status,
            "reason": upload.error or "",
            "note": upload.note or "",
            "record_id": upload.record_id or "",
            "evidence_number": upload.evidence_number or "",
            "uploader": upload.uploader,
            "received_at": _stamp(upload.created_at),
        }
        for upload in uploads
    ]
    moments = [as_utc(u.updated_at) or as_utc(u.created_at) for u in uploads]
    as_of = max((m for m in moments if m), default=datetime(1970, 1, 1, tzinfo=UTC))
    counts = Counter(row["status"] for row in rows)
    ordered = {state: counts[state] for state in STATE_ORDER if counts[state]}
    return BatchReport(batch_id, rows, as_of, ordered)


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def report_csv(report: BatchReport) -> bytes:
    """One line per file, every column of the ledger a reader needs to find the file again."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(report.rows)
    return out.getvalue().encode("utf-8")


def summary_line(report: BatchReport) -> str:
    indexed = report.counts.get("indexed", 0)
    rest = ", ".join(f"{count} {state}" for state, count in report.counts.items() if state != "indexed")
    return f"{indexed} van {report.files} bestanden geïndexeerd" + (f"; {rest}" if rest else "")


def report_pdf(report: BatchReport) -> bytes:
    """The completeness report as a PDF: the totals, then every file that did not go in, then all files."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise FontMissing(f"the DejaVu fonts are missing from {FONT_DIR}: install fonts-dejavu-core")
    pdf = FPDF(format="A4")
    # Dated by the ledger, not by the clock: the same batch gives the same bytes and the same hash.
    pdf.set_creation_date(report.as_of)
    pdf.set_title(f"Volledigheidsverslag zending {report.batch_id}")
    pdf.set_author("Speurder")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()

    def line(text: str, size: float = 9, style: str = "", gap: float = 1.0) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    line("Volledigheidsverslag van een zending", 14, "B", 3)
    line(f"Zending: {report.batch_id}")
    uploaders = sorted({row["uploader"] for row in report.rows})
    line(f"Opgeladen door: {', '.join(uploaders)}")
    line(f"Stand van het register op: {_stamp(report.as_of)}")
    if not report.complete:
        line("Let op: nog niet elk bestand heeft een eindtoestand; dit verslag is voorlopig.", 9, "B")
    pdf.ln(2)
    line(summary_line(report), 11, "B", 2)
    for state, count in report.counts.items():
        line(f"{count:>6}  {STATE_LABELS.get(state, state)}")
    pdf.ln(2)
    not_in = [row for row in report.rows if row["status"] != "indexed"]
    if not_in:
        line("Bestanden die niet (als eigen document) geïndexeerd zijn", 11, "B", 2)
        for row in not_in:
            line(f"{row['path']}", 8, "B", 0)
            line(f"{row['status']}: {row['reason'] or STATE_LABELS.get(row['status'], '')}", 8, "", 0)
            line(f"SHA-256 {row['sha256']}", 7, "", 1.5)
    line("Alle bestanden", 11, "B", 2)
    for number, row in enumerate(report.rows, 1):
        line(f"{number}. {row['path']} — {row['status']} — {row['size']} bytes", 8, "", 0)
        line(f"SHA-256 {row['sha256']}", 7, "", 1)
    return bytes(pdf.output())


def progress(uploads: Sequence[Upload], now: datetime | None = None) -> dict[str, Any]:
    """Counts per state, the rate files reach a final state, and the time left at that rate."""
    now = now or datetime.now(UTC)
    counts = Counter(upload.status for upload in uploads)
    done = [upload for upload in uploads if upload.status in FINAL_STATES]
    remaining = len(uploads) - len(done)
    started = min((moment for u in uploads if (moment := as_utc(u.created_at))), default=None)
    rate = eta = None
    if started and done:
        last = max(as_utc(u.updated_at) or now for u in done)
        elapsed = ((now if remaining else last) - started).total_seconds()
        if elapsed > 0:
            rate = len(done) / elapsed * 60  # files per minute
            eta = round(remaining / rate * 60) if remaining else 0
    return {
        "files": len(uploads),
        "final": len(done),
        "counts": {state: counts[state] for state in STATE_ORDER if counts[state]},
        "files_per_minute": round(rate, 1) if rate is not None else None,
        "eta_seconds": eta,
    }
