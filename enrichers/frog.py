"""Dutch named entities from Frog, kept running as one long-lived process and fed in batches.

Frog reads text on standard input and writes one tab-separated line per token, so no port is opened.
Each text of a batch is followed by a sentinel sentence; the reader knows a text is complete when the
sentinel comes back. Frog's tokens are then found again in the original text to give character offsets.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

# Frog's modules other than the tokenizer, tagger and NER (multi-word units, morphology, parser, chunker,
# lemmatizer) only slow it down here.
SKIP_MODULES = "mpacl"
# A word Frog keeps as one token and no document contains: it marks the end of each text in a batch.
SENTINEL = "Xspeurdereindetekstx"
_NER_COLUMN = 7  # index, word, lemma, morphology, compound, POS tag, confidence, NER
# Frog's own character filter rewrites these quotes; doing it ourselves keeps offsets unchanged.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "`": "'", "\u00b4": "'"})
# Control characters (form feeds from PDF extraction, NULs) would confuse the line protocol.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# How far past the previous token a Frog token may be found; a token Frog rewrote is skipped.
_ALIGN_WINDOW = 64
_LABELS = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "PRO": "MISC", "EVE": "MISC", "MISC": "MISC"}


class FrogError(RuntimeError):
    """Frog is missing, would not start, or died twice on the same batch."""


@dataclass(frozen=True, slots=True)
class FrogSpan:
    """One entity Frog found: its label and character offsets in the text it was given."""

    label: str
    start: int
    end: int


class FrogProcess:
    """One Frog process for this worker process, restarted when it dies."""

    def __init__(self, executable: str = "frog") -> None:
        self.executable = executable
        self._proc: subprocess.Popen[str] | None = None
        self._owner_pid = 0
        self._lock = threading.Lock()
        atexit.register(self.close)

    @property
    def pid(self) -> int | None:
        """The running Frog's process id, or None before the first start."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start Frog unless it runs already for this process (a forked worker gets its own)."""
        if self._proc is not None and self._proc.poll() is None and self._owner_pid == os.getpid():
            return
        path = shutil.which(self.executable)
        if path is None:
            raise FrogError(
                f"Frog ({self.executable!r}) is not installed: Dutch NER needs the Debian packages "
                "frog, frogdata and uctodata"
            )
        # Frog tidies debug files in its working folder; keep that out of the worker's folder.
        self._proc = subprocess.Popen(
            [path, f"--skip={SKIP_MODULES}", "--threads=1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=tempfile.gettempdir(),
        )
        self._owner_pid = os.getpid()

    def close(self) -> None:
        """Stop Frog (it also stops by itself when this process exits and its input closes)."""
        proc, self._proc = self._proc, None
        if proc is None or self._owner_pid != os.getpid():
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):  # a dead Frog cannot take what is still buffered
                proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def entities(self, texts: Sequence[str]) -> list[list[FrogSpan]]:
        """Frog's entities for each text, in one exchange; a Frog that died is restarted once."""
        with self._lock:
            try:
                return self._exchange(texts)
            except (BrokenPipeError, EOFError, OSError):
                self.close()
                try:
                    return self._exchange(texts)
                except (BrokenPipeError, EOFError, OSError) as error:
                    raise FrogError(f"Frog stopped while tagging a batch of {len(texts)} texts") from error

    def tokens(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        """Frog's raw (word, NER tag) rows for each text: what the raw-Frog benchmark measures."""
        with self._lock:
            return self._rows(texts)

    def _exchange(self, texts: Sequence[str]) -> list[list[FrogSpan]]:
        cleaned = [_clean(text) for text in texts]
        return [_spans(text, rows) for text, rows in zip(cleaned, self._rows(cleaned), strict=True)]

    def _rows(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        self.start()
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        payload = "".join(f"{_clean(text)}\n\n{SENTINEL} .\n\n" for text in texts)
        # Frog answers while it reads: writing from another thread keeps both pipes flowing.
        failure: list[BaseException] = []
        writer = threading.Thread(target=_write, args=(proc.stdin, payload, failure), daemon=True)
        writer.start()
        results = [_read_text(proc.stdout) for _ in texts]
        writer.join()
        if failure:
            raise failure[0]
        return results


def _write(stream: IO[str], payload: str, failure: list[BaseException]) -> None:
    try:
        stream.write(payload)
        stream.flush()
    except OSError as error:
        failure.append(error)


def _read_text(stdout: IO[str]) -> list[tuple[str, str]]:
    """Rows up to the sentinel, then the rest of the sentinel's sentence."""
    rows: list[tuple[str, str]] = []
    readline = stdout.readline
    while True:
        line = readline()
        if not line:
            raise EOFError("Frog closed its output")
        fields = line.rstrip("\n").split("\t")
        if len(fields) <= _NER_COLUMN:
            # The blank line between sentences.
            rows.append(("", ""))
            continue
        if fields[1] == SENTINEL:
            break
        rows.append((fields[1], fields[_NER_COLUMN]))
    while readline().strip():
        pass
    return rows


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text.translate(_QUOTES))


def _spans(text: str, rows: list[tuple[str, str]]) -> list[FrogSpan]:
    """Turn Frog's BIO rows into character spans of `text`."""
    spans: list[FrogSpan] = []
    cursor = 0
    current: tuple[str, int, int] | None = None
    for word, tag in rows:
        if not word:  # end of a sentence: an entity never crosses it
            if current is not None:
                spans.append(FrogSpan(*current))
                current = None
            continue
        found = text.find(word, cursor, cursor + _ALIGN_WINDOW + len(word))
        if found < 0:
            continue
        start, cursor = found, found + len(word)
        prefix, _, kind = tag.partition("-")
        label = _LABELS.get(kind.upper())
        if label is None or prefix not in ("B", "I"):
            if current is not None:
                spans.append(FrogSpan(*current))
                current = None
            continue
        if prefix == "I" and current is not None and current[0] == label:
            current = (label, current[1], cursor)
            continue
        if current is not None:
            spans.append(FrogSpan(*current))
        current = (label, start, cursor)
    if current is not None:
        spans.append(FrogSpan(*current))
    return spans


class FrogEntities:
    """spaCy component: sets Frog's entities on each doc, keeping entities set before it (the patterns)."""

    def __init__(self, name: str, executable: str, batch_size: int) -> None:
        self.name = name
        self.batch_size = batch_size
        self.frog = FrogProcess(executable)
        # Frog needs several seconds to load its models: start now, so it loads while the rest is built.
        self.frog.start()

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        stream = iter(stream)
        while docs := list(islice(stream, batch_size or self.batch_size)):
            for doc, spans in zip(docs, self.frog.entities([doc.text for doc in docs]), strict=True):
                _set_entities(doc, spans, self.name)
                yield doc


def _set_entities(doc: Doc, spans: list[FrogSpan], source: str) -> None:
    found: list[Span] = []
    for span in spans:
        # Frog and spaCy cut tokens differently; the entity grows to whole spaCy tokens.
        match = doc.char_span(span.start, span.end, label=span.label, alignment_mode="expand")
        if match is not None:
            found.append(Span(doc, match.start, match.end, label=span.label, span_id=source))
    preset = list(doc.ents)
    taken = {index for ent in preset for index in range(ent.start, ent.end)}
    added = [span for span in filter_spans(found) if taken.isdisjoint(range(span.start, span.end))]
    doc.ents = sorted(preset + added, key=lambda span: span.start)


@Language.factory(
    "frog_entities",
    default_config={"executable": "frog", "batch_size": 64},
)
def make_frog_entities(nlp: Language, name: str, executable: str, batch_size: int) -> FrogEntities:
    """The Frog component for a blank Dutch pipeline."""
    return FrogEntities(name, executable, batch_size)
