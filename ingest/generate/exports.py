"""Streaming writers for the export formats the register mappings read: CSV, NDJSON, a JSON array
(bare or under a key), XML. Each writes a record the moment it gets it and keeps nothing but a count."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from xml.sax.saxutils import escape, quoteattr


class Export:
    """A file being written, one record at a time; `rows` counts them."""

    def __init__(self, path: Path, encoding: str = "utf-8") -> None:
        self.path = path
        self.rows = 0
        self.stream: IO[str] = path.open("w", encoding=encoding, newline="")

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        self.stream.close()

    def open(self) -> None:
        """Write what comes before the first record."""

    def close(self) -> None:
        """Write what comes after the last record."""


class CsvExport(Export):
    def __init__(self, path: Path, header: Sequence[str], delimiter: str, bom: bool = False) -> None:
        super().__init__(path, "utf-8-sig" if bom else "utf-8")
        self.header = list(header)
        self.writer = csv.writer(self.stream, delimiter=delimiter, lineterminator="\r\n")

    def open(self) -> None:
        self.writer.writerow(self.header)

    def write(self, row: dict[str, str]) -> None:
        self.writer.writerow([row.get(column, "") for column in self.header])
        self.rows += 1


class NdjsonExport(Export):
    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False))
        self.stream.write("\n")
        self.rows += 1

    def write_line(self, line: str) -> None:
        """A record already serialised (the plate-read writer builds its lines itself, for speed)."""
        self.stream.write(line)
        self.rows += 1


class JsonArrayExport(Export):
    """`[...]` or `{"<head key>": {...}, "<key>": [...]}`, one record per line inside the array."""

    def __init__(self, path: Path, key: str | None = None, head: dict[str, Any] | None = None) -> None:
        super().__init__(path)
        self.key = key
        self.head = head or {}

    def open(self) -> None:
        if self.key is None:
            self.stream.write("[")
            return
        self.stream.write("{\n")
        for name, value in self.head.items():
            self.stream.write(f" {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)},\n")
        self.stream.write(f" {json.dumps(self.key)}: [")

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write("\n  " if self.rows == 0 else ",\n  ")
        self.stream.write(json.dumps(record, ensure_ascii=False))
        self.rows += 1

    def close(self) -> None:
        self.stream.write("\n]\n" if self.key is None else "\n ]\n}\n")


class XmlExport(Export):
    """<Root attrs><Container>records</Container></Root>, records written as element trees of plain
    data: a dict is an element (keys starting with "@" are attributes, "#text" its text), a list
    repeats the element, None leaves it out."""

    def __init__(
        self, path: Path, root: str, container: str, attributes: dict[str, str], preamble: str = ""
    ) -> None:
        super().__init__(path)
        self.root, self.container, self.attributes, self.preamble = root, container, attributes, preamble

    def open(self) -> None:
        attributes = "".join(f" {name}={quoteattr(value)}" for name, value in self.attributes.items())
        self.stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{self.root}{attributes}>\n')
        if self.preamble:
            self.stream.write(f"  {self.preamble}\n")
        self.stream.write(f"  <{self.container}>\n")

    def write(self, tag: str, record: dict[str, Any]) -> None:
        self.stream.write("    ")
        self.stream.write(element(tag, record, "    "))
        self.stream.write("\n")
        self.rows += 1

    def close(self) -> None:
        self.stream.write(f"  </{self.container}>\n</{self.root}>\n")


def element(tag: str, value: Any, indent: str) -> str:
    if isinstance(value, list):
        return f"\n{indent}".join(element(tag, item, indent) for item in value)
    if not isinstance(value, dict):
        return f"<{tag}>{escape(str(value))}</{tag}>"
    attributes = "".join(
        f" {name[1:]}={quoteattr(str(v))}" for name, v in value.items() if name.startswith("@")
    )
    children = [(name, v) for name, v in value.items() if not name.startswith(("@", "#")) and v is not None]
    text = escape(str(value["#text"])) if value.get("#text") is not None else ""
    if not children:
        return f"<{tag}{attributes}>{text}</{tag}>" if text else f"<{tag}{attributes}/>"
    inner = indent + "  "
    body = "".join(f"\n{inner}{element(name, v, inner)}" for name, v in children)
    return f"<{tag}{attributes}>{text}{body}\n{indent}</{tag}>"
