"""Seeded document sets for the pipeline benchmarks (B2, B5): born-digital files and scans of the same text.

The text is the Belgian parliament's written questions (`be-parliament-2020-dev.jsonl`, Dutch and French),
police and justice questions first: each document is a dossier header and a few questions in one
language, long enough for the pages it was given. Born-digital documents are PDFs (fpdf2, DejaVu Serif
11 pt on A4), Word files, HTML and plain text; scanned documents are the same kind of text drawn on A4
pages at 300 dpi (Pillow), slightly skewed, stored as JPEG inside an image-only PDF or as a PNG or
bilevel TIFF page, so that only OCR can read them.

A document's `pages` is the page count it was made with: of a PDF or a scan the pages it has, of a Word,
HTML or text file the pages its text takes in the PDF layout (they have no pages of their own). The same
seed gives the same files: byte for byte, but for the time stamps inside a Word file's zip.
"""

from __future__ import annotations

import io
import json
import random
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT.parent / "shared" / "data" / "be-parliament-2020-dev.jsonl"
FORMATS_TIKA = ROOT.parent / "shared" / "data" / "formats-tika" / "files"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
SERIF, SERIF_BOLD = FONTS / "DejaVuSerif.ttf", FONTS / "DejaVuSerif-Bold.ttf"

BORN_DIGITAL, SCANNED, CORPUS = "born-digital", "scanned", "corpus"
# The share of each format in a born-digital or scanned set (the rest of the cycle repeats).
BORN_DIGITAL_FORMATS = ["pdf"] * 6 + ["docx"] * 2 + ["html", "txt"]
SCANNED_FORMATS = ["scan.pdf"] * 3 + ["png", "tiff"]
# Pages a document is made with, drawn with these weights: most dossiers run to a few pages.
BORN_DIGITAL_PAGES = {1: 2, 2: 3, 3: 3, 4: 2, 6: 1}
SCANNED_PAGES = {1: 3, 2: 2, 3: 1}  # PNG and TIFF files are one page whatever is drawn
# Police and justice words that put a question first in line.
_POLICE = re.compile(
    r"politie|parket|gerecht|misdrij|drugs|diefstal|inbra|fraude|witwas|criminal|terror", re.IGNORECASE
)
_FIXED_DATE = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)  # in every PDF: the same seed, the same bytes
_HEADINGS = {
    "nl": ("Proces-verbaal", "Dossier", "Schriftelijke vraag", "Bijlage bij"),
    "fr": ("Procès-verbal", "Dossier", "Question écrite", "Annexe au"),
}
_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "txt": "text/plain",
    "scan.pdf": "application/pdf",
    "png": "image/png",
    "tiff": "image/tiff",
}

# Scans: A4 at 300 dpi, 11 pt text, 2 cm margins.
DPI = 300
PAGE_PX = (2480, 3508)
MARGIN_PX = 236
FONT_PX = 46
LINE_PX = 64


@dataclass(frozen=True)
class Document:
    """One file of a set: where it is, its class and format, its language and its pages."""

    path: Path
    kind: str  # born-digital | scanned | corpus
    format: str  # pdf, docx, html, txt, scan.pdf, png, tiff; a corpus file's extension
    language: str  # nl | fr; "" for a corpus file
    pages: int
    chars: int  # of the text put in (0 for a corpus file)

    @property
    def name(self) -> str:
        return self.path.name

    def row(self, root: Path) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path.relative_to(root))}


def questions() -> list[dict[str, str]]:
    """Questions that exist in both languages, police and justice ones first, in the file's order."""
    with QUESTIONS.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    both = [row for row in rows if (row.get("text_nl") or "").strip() and (row.get("text_fr") or "").strip()]
    police = [row for row in both if _POLICE.search(row["text_nl"])]
    return police + [row for row in both if not _POLICE.search(row["text_nl"])]


class TextMaker:
    """Dossier texts of a given length from the questions, drawn with one seeded generator."""

    def __init__(self, rng: random.Random, pool: Sequence[dict[str, str]] | None = None) -> None:
        self.rng = rng
        self.pool = list(pool) if pool is not None else questions()
        # Police questions are drawn three times as often as the others.
        police = sum(1 for row in self.pool if _POLICE.search(row["text_nl"]))
        self.weights = [3 if position < police else 1 for position in range(len(self.pool))]

    def text(self, language: str, chars: int, number: str) -> tuple[str, str]:
        """A title and a body of at least `chars` characters, paragraphs separated by blank lines."""
        heading = self.rng.choice(_HEADINGS[language])
        title = f"{heading} {number}"
        paragraphs: list[str] = []
        total = 0
        while total < chars:
            row = self.rng.choices(self.pool, weights=self.weights)[0]
            paragraph = _tidy(row[f"text_{language}"])
            paragraphs.append(paragraph)
            total += len(paragraph) + 2
        return title, "\n\n".join(paragraphs)


def _tidy(text: str) -> str:
    # The questions lost the space after a sentence's full stop where a paragraph ended ("2018.Met").
    text = re.sub(r"(?<=[a-zà-ÿ0-9)])\.(?=[A-ZÀ-Þ])", ". ", text)
    return re.sub(r"\s+", " ", text).strip()


# -- born-digital -----------------------------------------------------------------------------------
def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("Serif", "", str(SERIF))
    pdf.add_font("Serif", "B", str(SERIF_BOLD))
    return pdf


# The born-digital layout in millimetres: A4, margins of 20 (17 cm lines), a title line of 8 then 4, body
# lines of 5.5 and 3 between paragraphs. Lines are broken here, not by fpdf2's `multi_cell` (ten times
# slower), so a file's pages are known before it is written, and a Word, HTML or text file can be given
# the pages its text would take in that PDF.
_WIDTH, _TOP, _BOTTOM, _TITLE, _LINE, _GAP = 170.0, 20.0, 297.0 - 20.0, 8.0, 5.5, 3.0
# Characters of body text a born-digital page holds, about (DejaVu Serif 11 pt).
CHARS_PER_PAGE = 3300


@cache
def _measuring_pdf() -> FPDF:
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("Serif", "", 11)
    return pdf


@cache
def _width(word: str) -> float:
    return float(_measuring_pdf().get_string_width(word))


def _lines(paragraph: str) -> list[str]:
    """A paragraph broken into lines of the body width, greedily at spaces."""
    space = _width(" ")
    lines: list[str] = []
    line: list[str] = []
    width = 0.0
    for word in paragraph.split():
        word_width = _width(word)
        if line and width + space + word_width > _WIDTH:
            lines.append(" ".join(line))
            line, width = [word], word_width
        else:
            width = width + space + word_width if line else word_width
            line.append(word)
    if line:
        lines.append(" ".join(line))
    return lines


def _pages_of(body: str, pages: int | None = None) -> tuple[list[list[str]], int]:
    """The body's paragraphs as lines, cut after `pages` pages; and the pages they take."""
    y, page = _TOP + _TITLE + 4, 1
    kept: list[list[str]] = []
    for paragraph in body.split("\n\n"):
        taken: list[str] = []
        for line in _lines(paragraph):
            if y + _LINE > _BOTTOM:  # fpdf2 breaks the page before a line that would pass the margin
                if pages is not None and page == pages:
                    return kept + ([taken] if taken else []), page
                page, y = page + 1, _TOP
            taken.append(line)
            y += _LINE
        kept.append(taken)
        y += _GAP
    return kept, page


def fit_pages(body: str, pages: int | None = None) -> tuple[str, int]:
    """The body cut at a line end to fill at most `pages` pages of the PDF layout, and the pages it takes."""
    paragraphs, taken = _pages_of(body, pages)
    return "\n\n".join(" ".join(lines) for lines in paragraphs if lines), taken


def _lay_out(pdf: FPDF, title: str, body: str) -> None:
    from fpdf.enums import XPos, YPos

    pdf.add_page()
    pdf.set_font("Serif", "B", 14)
    pdf.cell(0, _TITLE, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Serif", "", 11)
    for lines in _pages_of(body)[0]:
        for line in lines:
            pdf.cell(0, _LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(_GAP)


def _fit(maker: TextMaker, language: str, pages: int, number: str) -> tuple[str, str, int]:
    """A title and a body that fill `pages` pages of the PDF layout, and the pages they take."""
    title, body = maker.text(language, pages * CHARS_PER_PAGE, number)
    body, taken = fit_pages(body, pages)
    return title, body, taken


def write_pdf(path: Path, title: str, body: str, language: str) -> int:
    pdf = _pdf()
    pdf.set_title(title)
    pdf.set_author("Speurder bench")
    pdf.set_lang(language)
    _lay_out(pdf, title, body)
    pdf.output(str(path))
    return int(pdf.page_no())


def write_docx(path: Path, title: str, body: str, language: str) -> None:
    from docx import Document as WordDocument
    from docx.opc.constants import RELATIONSHIP_TYPE

    word = WordDocument()
    # python-docx's template carries a thumbnail image, which Tika would hand to OCR as an embedded item:
    # a cost that Word files seldom have.
    package = word.part.package
    for key, relation in list(package.rels.items()):
        if relation.reltype == RELATIONSHIP_TYPE.THUMBNAIL:
            del package.rels[key]
    word.core_properties.title = title
    word.core_properties.language = language
    word.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    word.core_properties.modified = _FIXED_DATE.replace(tzinfo=None)
    word.add_heading(title, level=1)
    for paragraph in body.split("\n\n"):
        word.add_paragraph(paragraph)
    word.save(str(path))


def write_html(path: Path, title: str, body: str, language: str) -> None:
    from html import escape

    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n<body>\n<h1>{escape(title)}</h1>\n{paragraphs}\n</body>\n</html>\n",
        encoding="utf-8",
    )


def write_txt(path: Path, title: str, body: str, language: str) -> None:
    wrapped = "\n\n".join(textwrap.fill(p, 90) for p in body.split("\n\n"))
    path.write_text(f"{title}\n\n{wrapped}\n", encoding="utf-8")


# -- scanned ----------------------------------------------------------------------------------------
def _font(size: int = FONT_PX) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(SERIF), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
        lines.append("")
    return lines


def page_images(title: str, body: str, pages: int, rng: random.Random) -> list[Image.Image]:
    """`pages` A4 pages at 300 dpi with the text on them, each a little skewed as a scanner leaves it."""
    font, bold = _font(), ImageFont.truetype(str(SERIF_BOLD), FONT_PX + 12)
    width = PAGE_PX[0] - 2 * MARGIN_PX
    per_page = (PAGE_PX[1] - 2 * MARGIN_PX) // LINE_PX
    lines = _wrap(body, font, width)
    images = []
    for number in range(pages):
        image = Image.new("L", PAGE_PX, 255)
        draw = ImageDraw.Draw(image)
        y = MARGIN_PX
        # The title takes two lines of the first page.
        first = max(0, number * per_page - 2)
        chunk = lines[first : (number + 1) * per_page - 2]
        if number == 0:
            draw.text((MARGIN_PX, y), title, font=bold, fill=0)
            y += 2 * LINE_PX
        for line in chunk:
            draw.text((MARGIN_PX, y), line, font=font, fill=20)
            y += LINE_PX
        draw.text(
            (PAGE_PX[0] // 2 - 40, PAGE_PX[1] - MARGIN_PX // 2), f"{number + 1}/{pages}", font=font, fill=0
        )
        angle = rng.uniform(-0.6, 0.6)
        images.append(image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255, expand=False))
    return images


def _scan_lines_per_page() -> int:
    return (PAGE_PX[1] - 2 * MARGIN_PX) // LINE_PX


def scan_text(maker: TextMaker, language: str, pages: int, number: str) -> tuple[str, str]:
    """Text that fills `pages` scanned pages (the rest of a page's lines stay blank)."""
    font = _font()
    width = PAGE_PX[0] - 2 * MARGIN_PX
    per_page = _scan_lines_per_page()
    capacity = pages * per_page - 2
    title, body = maker.text(language, pages * 4400, number)
    lines = _wrap(body, font, width)
    if len(lines) > capacity:
        # Keep the lines that fit: the scan holds exactly the text we keep ("" separates paragraphs).
        paragraphs = " ".join(lines[:capacity]).split("  ")
        body = "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
    return title, body


def write_scan(path: Path, fmt: str, images: list[Image.Image]) -> None:
    if fmt == "scan.pdf":
        pdf = FPDF(unit="pt", format="A4")
        pdf.set_creation_date(_FIXED_DATE)
        for image in images:
            jpeg = io.BytesIO()
            image.save(jpeg, "JPEG", quality=75, dpi=(DPI, DPI))
            pdf.add_page()
            pdf.image(jpeg, x=0, y=0, w=pdf.w, h=pdf.h)
        pdf.output(str(path))
    elif fmt == "png":
        images[0].save(path, "PNG", dpi=(DPI, DPI), optimize=False)
    elif fmt == "tiff":
        images[0].convert("1").save(path, "TIFF", compression="group4", dpi=(DPI, DPI))
    else:
        raise ValueError(fmt)


# -- sets -------------------------------------------------------------------------------------------
def _draw(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def born_digital(folder: Path, n: int, seed: int, *, start: int = 0) -> list[Document]:
    """`n` born-digital documents, Dutch and French alternating, formats in BORN_DIGITAL_FORMATS' shares."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"born-digital-{seed}-{start}")  # noqa: S311 - reproducible sets, not secrets
    maker = TextMaker(rng)
    documents = []
    for i in range(start, start + n):
        fmt = BORN_DIGITAL_FORMATS[i % len(BORN_DIGITAL_FORMATS)]
        language = ("nl", "fr")[i % 2]
        pages = _draw(rng, BORN_DIGITAL_PAGES)
        title, body, pages = _fit(maker, language, pages, f"BD-{seed}-{i:05d}")
        path = folder / f"bd-{i:05d}-{language}.{fmt}"
        if fmt == "pdf":
            pages = write_pdf(path, title, body, language)
        else:
            {"docx": write_docx, "html": write_html, "txt": write_txt}[fmt](path, title, body, language)
        documents.append(Document(path, BORN_DIGITAL, fmt, language, pages, len(title) + len(body)))
    return documents


def scanned(
    folder: Path, n: int, seed: int, *, start: int = 0, max_pages: int | None = None
) -> list[Document]:
    """`n` scanned documents (image-only PDFs of 1-3 pages, single PNG and TIFF pages), nl and fr."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"scanned-{seed}-{start}")  # noqa: S311 - reproducible sets, not secrets
    maker = TextMaker(rng)
    documents = []
    for i in range(start, start + n):
        fmt = SCANNED_FORMATS[i % len(SCANNED_FORMATS)]
        language = ("nl", "fr")[(i // len(SCANNED_FORMATS) + i) % 2]
        pages = _draw(rng, SCANNED_PAGES) if fmt == "scan.pdf" else 1
        pages = min(pages, max_pages or pages)
        title, body = scan_text(maker, language, pages, f"SC-{seed}-{i:05d}")
        path = folder / f"scan-{i:05d}-{language}.{fmt.removeprefix('scan.')}"
        write_scan(path, fmt, page_images(title, body, pages, rng))
        documents.append(Document(path, SCANNED, fmt, language, pages, len(title) + len(body)))
    return documents


# Files of the format corpus that a mixed set may draw: the families a seized disk is full of. Archives,
# images and the files that failed in `bench.formats_tika` (results/formats-tika.json) stay out: they
# measure hostile input, not throughput.
CORPUS_FAMILIES = ("html", "mail", "microsoft", "miscoffice", "pdf", "text")


def corpus_sample(folder: Path, n: int, seed: int, exclude: Iterable[str] = ()) -> list[Document]:
    """`n` files of the format corpus (copied into `folder`); their pages are learnt from the pipeline."""
    import shutil

    excluded = set(exclude)
    pool = sorted(
        path
        for family in CORPUS_FAMILIES
        for path in (FORMATS_TIKA / family).rglob("*")
        if path.is_file() and str(path.relative_to(FORMATS_TIKA)) not in excluded
    )
    chosen = random.Random(f"corpus-{seed}").sample(pool, min(n, len(pool)))  # noqa: S311 - a reproducible pick
    folder.mkdir(parents=True, exist_ok=True)
    documents = []
    for position, source in enumerate(sorted(chosen)):
        target = folder / f"corpus-{position:04d}-{source.name}"
        shutil.copyfile(source, target)
        documents.append(Document(target, CORPUS, source.suffix.lower().lstrip(".") or "(none)", "", 0, 0))
    return documents


def content_type(document: Document) -> str:
    return _TYPES.get(document.format, "application/octet-stream")
