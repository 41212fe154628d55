"""People, organisations and places named in a text, in Dutch, French, German or English.

Each language has one spaCy pipeline, built on first use and kept for the life of the process:

- Dutch: a blank pipeline whose entities come from Frog (`enrichers.frog`);
- French: the statistical model `fr_core_news_sm`;
- German, English and unknown languages: no statistical model, the rules and gazetteers alone.

Every pipeline carries two entity rulers around its model: `patterns` before it (police and justice
bodies, names of zones and prosecution offices, company legal forms, people after a title), which the
model then respects, and `gazetteers` after it (places, Belgian municipalities, given name + surname),
which fills only what the model left empty.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span

from enrichers import frog as _frog  # noqa: F401  (registers the "frog_entities" factory)
from enrichers.language import detect_language

LABELS = ("PER", "ORG", "LOC", "MISC")
LANGUAGES = ("nl", "fr", "de", "en")
FRENCH_MODEL = "fr_core_news_sm"
# The French model's NER has its own embedding layer; the other components only cost time here.
FRENCH_EXCLUDE = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]
# spaCy's own limit guards memory; longer texts are cut in pieces at line or sentence ends.
CHUNK_CHARS = 100_000
BATCH_SIZE = 64

_GAZETTEERS = Path(__file__).resolve().parent / "gazetteers"
# The synthetic data generator's table of Belgian municipalities, read as data (never imported).
MUNICIPALITIES = Path(__file__).resolve().parent.parent / "ingest" / "generate" / "municipalities.csv"
# Municipality names that are also ordinary capitalised words (German nouns, sentence-initial Dutch
# or French words): matching them would make places out of trees, pears and years.
_AMBIGUOUS_PLACES = frozenset(
    {"As", "Ans", "Ham", "Mol", "Peer", "Lint", "Spa", "Bree", "Boom", "Hove", "Wellen", "Essen", "Kapellen",
     "Zele", "Lo", "Bever", "Berg", "Heers", "Amay", "Olne", "Wanze", "Tellin", "Tinlot"}
)  # fmt: skip
_TITLES = {
    "herr", "frau", "mr", "mrs", "ms", "miss", "sir", "dr", "prof", "monsieur", "madame", "mademoiselle",
    "m.", "mme", "mlle", "meneer", "mevrouw", "mevr", "dhr", "heer", "mr.", "mrs.", "ms.", "dr.", "prof.",
    "mme.", "mevr.", "dhr.",
}  # fmt: skip
# Lower-case words inside surnames: van, de, von, du, ...
_PARTICLES = ["van", "de", "der", "den", "von", "vom", "zu", "le", "la", "du", "des", "d'", "ten", "ter",
              "vanden", "vander", "del", "da", "di", "el", "al", "ben"]  # fmt: skip
# A capitalised word of two letters or more; one ending in a full stop is an abbreviation, not a name.
_CAPITALISED = r"^[A-ZÀ-ÖØ-Þ][\w'\u2019.-]*\w$"
_EDGE_PUNCTUATION = "'\"\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a()[]{}<>,;:"
_MODEL_LABELS = {"PER": "PER", "PERSON": "PER", "ORG": "ORG", "LOC": "LOC", "GPE": "LOC", "MISC": "MISC"}


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity: label (PER, ORG, LOC, MISC), its text, character offsets, and what found it."""

    label: str
    text: str
    start: int
    end: int
    source: str


def entities(text: str, language: str | None) -> list[Entity]:
    """Named entities in `text`; `language` is an ISO 639-1 code, or None to detect it."""
    return entities_many([text], language)[0]


def entities_many(
    texts: Sequence[str], language: str | None, batch_size: int = BATCH_SIZE
) -> list[list[Entity]]:
    """Named entities of each text, fed through the pipeline in batches (one Frog exchange per batch)."""
    languages = [_resolve(text, language) for text in texts]
    found: list[list[Entity]] = [[] for _ in texts]
    for lang in dict.fromkeys(languages):
        positions = [i for i, text_lang in enumerate(languages) if text_lang == lang]
        pieces = [(i, offset, piece) for i in positions for offset, piece in _chunks(texts[i])]
        docs = pipeline(lang).pipe((piece for _, _, piece in pieces), batch_size=batch_size)
        for (i, offset, _), doc in zip(pieces, docs, strict=True):
            found[i].extend(_entity(ent, offset) for ent in doc.ents)
    return found


def _resolve(text: str, language: str | None) -> str:
    if language is None:
        language = detect_language(text)
    language = (language or "").lower()
    return language if language in LANGUAGES else "xx"


def _chunks(text: str, size: int = CHUNK_CHARS) -> Iterable[tuple[int, str]]:
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = max(window.rfind("\n"), window.rfind(". ") + 1)
        end = start + (cut if cut > size // 2 else size)
        yield start, text[start:end]
        start = end
    yield start, text[start:]


def _entity(ent: Span, offset: int) -> Entity:
    # A token may carry a quote or bracket that is no part of the name (a closing quote): leave it out.
    text = ent.text
    lead = len(text) - len(text.lstrip(_EDGE_PUNCTUATION))
    text = text.strip(_EDGE_PUNCTUATION) or text
    return Entity(
        label=_MODEL_LABELS.get(ent.label_, "MISC"),
        text=text,
        start=ent.start_char + offset + lead,
        end=ent.start_char + offset + lead + len(text),
        # Rulers and Frog mark their spans; what is left came from the statistical model.
        source=ent.id_ or FRENCH_MODEL,
    )


_PIPELINES: dict[str, Language] = {}
# A worker process builds its pipelines ahead of its first task (`warm`) on a thread of its own: a task
# that needs one meanwhile waits for that build rather than starting a second one (and a second Frog).
_BUILDING = threading.Lock()


def pipeline(language: str) -> Language:
    """The spaCy pipeline of a language (nl, fr, de, en; anything else gets the rules alone), built once."""
    key = language if language in LANGUAGES else "xx"
    nlp = _PIPELINES.get(key)
    if nlp is None:
        with _BUILDING:
            nlp = _PIPELINES.get(key)
            if nlp is None:
                nlp = _PIPELINES[key] = _build(key)
    return nlp


def warm(languages: Iterable[str] = LANGUAGES) -> None:
    """Build each language's pipeline (Frog started) and the language detector now, not on a first
    document: the French model and the gazetteers take seconds of CPU, Frog several seconds to load."""
    detect_language("Jan Peeters woont in Gent. Marie Dupont habite à Liège. Hans Müller wohnt in Eupen.")
    for language in languages:
        pipeline(language)


def _build(language: str) -> Language:
    nlp: Language
    if language == "fr":
        nlp = spacy.load(FRENCH_MODEL, exclude=FRENCH_EXCLUDE)
        model = "ner"
    elif language == "nl":
        nlp = spacy.blank("nl")
        nlp.add_pipe("frog_entities", name="frog")
        model = "frog"
    else:
        nlp = spacy.blank(language if language in LANGUAGES else "xx")
        model = ""
    # Ruler patterns are written in tokens of this language's tokenizer.
    patterns = nlp.add_pipe("entity_ruler", name="patterns", before=model or None)
    assert isinstance(patterns, EntityRuler)
    patterns.add_patterns(_strict_patterns(nlp))
    nlp.add_pipe("drop_person_titles", after="patterns")
    gazetteers = nlp.add_pipe("entity_ruler", name="gazetteers", config={"overwrite_ents": False})
    assert isinstance(gazetteers, EntityRuler)
    # Phrase patterns are tokenized by running the pipeline: without its model, it only tokenizes.
    with nlp.select_pipes(enable=[]):
        gazetteers.add_patterns(_gazetteer_patterns(nlp))
    nlp.max_length = CHUNK_CHARS + 1
    return nlp


@Language.component("drop_person_titles")
def drop_person_titles(doc: Doc) -> Doc:
    """'Herr Müller' is found by its title; the person is 'Müller'."""
    ents = []
    for ent in doc.ents:
        start = ent.start
        while start < ent.end - 1 and (doc[start].lower_ in _TITLES or doc[start].text == "."):
            start += 1
        if doc[start].lower_ in _TITLES:  # a title alone ("M. le ministre") names nobody
            continue
        ents.append(ent if start == ent.start else Span(doc, start, ent.end, ent.label, span_id=ent.id))
    doc.ents = ents
    return doc


Pattern = dict[str, Any]


def _strict_patterns(nlp: Language) -> list[Pattern]:
    capitalised: Pattern = {"TEXT": {"REGEX": _CAPITALISED}}
    patterns: list[Pattern] = []
    for label, phrase in _table("organisations.tsv"):
        patterns.append(_pattern(label, _lower(nlp, phrase), "patterns"))
    # "Bruxelles-Capitale/Ixelles": up to three capitalised words, joined by hyphens or slashes.
    joiner: Pattern = {"ORTH": {"IN": ["-", "/"]}, "OP": "?"}
    place_name = [capitalised, joiner, {**capitalised, "OP": "?"}, joiner, {**capitalised, "OP": "?"}]
    for label, phrase in _table("organisation_heads.tsv"):
        patterns.append(_pattern(label, [*_lower(nlp, phrase), *place_name], "patterns"))
    name_start: Pattern = {"TEXT": {"REGEX": r"^([A-ZÀ-ÖØ-Þ0-9][\w'\u2019.-]*|&)$"}, "OP": "{1,4}"}
    # Legal forms grouped by their words as this tokenizer cuts them: one pattern a group keeps the
    # matcher fast. Tokenizers keep a sentence's full stop on a legal form they know ("GmbH.").
    forms: dict[tuple[str, ...], set[str]] = {}
    for suffix in _lines("company_suffixes.txt"):
        *head, last = (token.text for token in nlp.make_doc(suffix))
        forms.setdefault(tuple(head), set()).update({last, last.rstrip(".") + "."})
    for words, lasts in forms.items():
        tail: list[Pattern] = [*({"ORTH": word} for word in words), {"ORTH": {"IN": sorted(lasts)}}]
        patterns.append(_pattern("ORG", [name_start, *tail], "patterns"))
    title: Pattern = {"LOWER": {"IN": sorted(_TITLES)}, "OP": "{1,2}"}  # "Herr Dr. Müller"
    particles = {"LOWER": {"IN": _PARTICLES}, "OP": "{0,3}"}
    patterns.append(_pattern("PER", [title, {"ORTH": ".", "OP": "?"}, particles, capitalised,
                                     {**capitalised, "OP": "?"}], "patterns"))  # fmt: skip
    return patterns


def _gazetteer_patterns(nlp: Language) -> list[Pattern]:
    places = set(_lines("places.txt")) | _municipalities()
    patterns: list[Pattern] = [
        {"label": "LOC", "pattern": place, "id": "gazetteers"} for place in sorted(places - _AMBIGUOUS_PLACES)
    ]
    given: Pattern = {"ORTH": {"IN": _lines("given_names.txt")}}
    particles: Pattern = {"LOWER": {"IN": _PARTICLES}, "OP": "{0,3}"}
    patterns.append(_pattern("PER", [given, particles, {"TEXT": {"REGEX": _CAPITALISED}}], "gazetteers"))
    return patterns


def _pattern(label: str, tokens: list[Pattern], source: str) -> Pattern:
    return {"label": label, "pattern": tokens, "id": source}


def _lower(nlp: Language, phrase: str) -> list[Pattern]:
    return [{"LOWER": token.lower_} for token in nlp.make_doc(phrase)]


def _lines(name: str) -> list[str]:
    text = (_GAZETTEERS / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _table(name: str) -> list[tuple[str, str]]:
    return [(label, phrase) for label, _, phrase in (line.partition("\t") for line in _lines(name))]


def _municipalities() -> set[str]:
    with MUNICIPALITIES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    names = (row.get(column, "").strip() for row in rows for column in ("nl", "fr", "de"))
    return {name for name in names if name}
