"""Streaming readers: a register export in, one `Row` per record out, each with the line it starts on.

Every reader holds one record (and a read buffer) in memory, whatever the size of the file. A row the
reader cannot make sense of (a wrong number of columns, a line that is not JSON) comes out as a `Row`
with an `error`, so the caller reports it and goes on; a file that cannot be read further (broken XML,
a JSON document cut short) raises `SourceError` with the line where reading stopped.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

import orjson
from lxml import etree

CHUNK_CHARS = 1 << 16
# One JSON record larger than this is a broken file, not a record: stop instead of filling memory.
MAX_RECORD_CHARS = 1 << 24


# The JSON escape of half a surrogate pair (\ud800 to \udfff). A pair, json joins into one character;
# half a pair alone leaves text no UTF-8 can hold, which would stop the whole ingest when written.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unpaired_surrogate(value: Any) -> str | None:
    """The reason a decoded JSON record cannot be stored when one of its texts (keys included) holds half
    a surrogate pair; None when all is valid Unicode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"text with half a surrogate pair (\\u{ord(value[exc.start]):04x}): not valid Unicode"
        return None
    if isinstance(value, dict):
        return next(filter(None, map(_unpaired_surrogate, chain(value, value.values()))), None)
    if isinstance(value, list):
        return next(filter(None, map(_unpaired_surrogate, value)), None)
    return None


@dataclass(frozen=True)
class Row:
    line: int
    data: Any = None
    error: str | None = None


class SourceError(ValueError):
    """The file cannot be read (any further): what and where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class ReadOptions:
    format: str
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    quotechar: str = '"'
    record_path: str = ""


def read_rows(path: Path, options: ReadOptions) -> Iterator[Row]:
    readers = {"csv": read_csv, "ndjson": read_ndjson, "json": read_json, "xml": read_xml}
    yield from readers[options.format](path, options)


# -- CSV -------------------------------------------------------------------------------------------
def csv_header(path: Path, options: ReadOptions) -> list[str]:
    with path.open(encoding=options.encoding, newline="") as stream:
        header = next(csv.reader(stream, delimiter=options.delimiter, quotechar=options.quotechar), None)
    if not header:
        raise SourceError("the file is empty: a CSV export starts with a header line", 1)
    return [name.strip() for name in header]


def read_csv(path: Path, options: ReadOptions) -> Iterator[Row]:
    with path.open(encoding=options.encoding, newline="") as stream:
        reader = csv.reader(stream, delimiter=options.delimiter, quotechar=options.quotechar, strict=True)
        line = 1
        try:
            header = [name.strip() for name in next(reader, [])]
            line = reader.line_num + 1
            while True:
                # A quoted field may span lines: the row starts where the previous one ended.
                start = line
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # bad quoting: this row only, the reader goes on
                    line = reader.line_num + 1
                    yield Row(start, error=f"not readable as CSV: {exc}")
                    continue
                line = reader.line_num + 1
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(header):
                    yield Row(start, error=f"expected {len(header)} columns, found {len(values)}")
                    continue
                yield Row(start, dict(zip(header, values, strict=True)))
        except UnicodeDecodeError as exc:
            raise SourceError(f"not {options.encoding}: {exc.reason}", line) from exc


# -- NDJSON ----------------------------------------------------------------------------------------
def _decode_line(text: str) -> Any:
    """One line's JSON: by orjson, several times faster; what orjson refuses is read by the json module,
    whose reading and whose message count (numbers beyond 64 bits, NaN, half a surrogate pair)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def read_ndjson(path: Path, options: ReadOptions) -> Iterator[Row]:
    with path.open(encoding=options.encoding) as stream:
        line = 0
        try:
            for line, text in enumerate(stream, start=1):
                if not text.strip():
                    continue
                try:
                    data = _decode_line(text)
                except json.JSONDecodeError as exc:
                    yield Row(line, error=f"not JSON: {exc.msg} at column {exc.colno}")
                    continue
                if not isinstance(data, dict):
                    yield Row(line, error=f"expected a JSON object, found {type(data).__name__}")
                    continue
                if _SURROGATE_ESCAPE.search(text) and (problem := _unpaired_surrogate(data)):
                    yield Row(line, error=problem)
                    continue
                yield Row(line, data)
        except UnicodeDecodeError as exc:
            raise SourceError(f"not {options.encoding}: {exc.reason}", line + 1) from exc


# -- JSON ------------------------------------------------------------------------------------------
class _Buffer:
    """A growing window on a text stream that counts the lines it lets go of."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False
        self.escaped_surrogate = False  # whether the last value's text escapes half a surrogate pair

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        # Drop what has been consumed so the window never holds more than one record and a chunk.
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return True

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def skip_space(self) -> str:
        """The next non-blank character (consumed up to, not including, it); "" at the end."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.advance(self.pos + 1)
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        char = self.skip_space()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            raise SourceError(f"expected {what}, found {found}", self.line)
        self.advance(self.pos + 1)
        return char

    def value(self, decoder: json.JSONDecoder) -> Any:
        """Decode the JSON value at the cursor, reading on until it is complete."""
        self.skip_space()
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > MAX_RECORD_CHARS:
                    raise SourceError("a record larger than 16 MiB: the JSON is broken", self.line) from exc
                if self.more():
                    continue
                line = self.line + self.text.count("\n", self.pos, exc.pos)
                raise SourceError(f"broken JSON: {exc.msg}", line) from exc
            # A number at the end of the window may go on in the next chunk.
            if end == len(self.text) and not isinstance(value, dict | list | str) and self.more():
                continue
            self.escaped_surrogate = _SURROGATE_ESCAPE.search(self.text, self.pos, end) is not None
            self.advance(end)
            return value


def read_json(path: Path, options: ReadOptions) -> Iterator[Row]:
    """Records of the array at `record_path` (dotted keys; empty: the document is the array)."""
    decoder = json.JSONDecoder()
    steps = [step for step in options.record_path.split(".") if step]
    with path.open(encoding=options.encoding) as stream:
        buffer = _Buffer(stream)
        try:
            for depth, step in enumerate(steps):
                buffer.expect("{", f"an object holding {'.'.join(steps[: depth + 1])!r}")
                while True:
                    if buffer.skip_space() == "}":
                        raise SourceError(f"no key {'.'.join(steps[: depth + 1])!r}", buffer.line)
                    key = buffer.value(decoder)
                    buffer.expect(":", "':'")
                    if key == step:
                        break
                    buffer.value(decoder)  # a sibling of the path (metadata, say): read past it
                    buffer.expect(",}", "',' or '}'")
            buffer.expect("[", f"an array of records at {options.record_path or 'the top'!r}")
            if buffer.skip_space() == "]":
                return
            while True:
                buffer.skip_space()
                line = buffer.line
                record = buffer.value(decoder)
                problem = _unpaired_surrogate(record) if buffer.escaped_surrogate else None
                if problem:
                    yield Row(line, error=problem)
                elif isinstance(record, dict):
                    yield Row(line, record)
                else:
                    yield Row(line, error=f"expected a JSON object, found {type(record).__name__}")
                if buffer.expect(",]", "',' or ']'") == "]":
                    return
        except UnicodeDecodeError as exc:
            raise SourceError(f"not {options.encoding}: {exc.reason}", buffer.line) from exc


# -- XML -------------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_data(element: Any) -> Any:
    """An element as plain data: attributes as "@name", children by local name (repeated ones as a
    list), text as itself or, beside attributes and children, as "#text"."""
    attributes = {f"@{_local(key)}": value for key, value in element.attrib.items()}
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    if not attributes and not children:
        return text
    data: dict[str, Any] = dict(attributes)
    for child in children:
        key, value = _local(child.tag), element_data(child)
        if key not in data:
            data[key] = value
        elif isinstance(data[key], list):
            data[key].append(value)
        else:
            data[key] = [data[key], value]
    if text:
        data["#text"] = text
    return data


def read_xml(path: Path, options: ReadOptions) -> Iterator[Row]:
    """Records are the elements at `record_path` ("Export/Item", local names, from the root)."""
    target = [step for step in options.record_path.split("/") if step]
    stack: list[str] = []
    # No DTDs, no entities, no network: an export is data, never instructions to the parser.
    events = etree.iterparse(
        str(path),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for event, element in events:
            if not isinstance(element.tag, str):
                continue
            if event == "start":
                stack.append(_local(element.tag))
                continue
            if stack == target:
                yield Row(element.sourceline or 0, element_data(element))
            stack.pop()
            if len(stack) < len(target):
                # Done with this element: free it and what came before it, so memory stays flat.
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"broken XML: {exc.msg}", exc.lineno) from exc
