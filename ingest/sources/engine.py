"""Row → Record: a validated mapping applied to one row of an export.

The mapping is compiled once, when the engine is made: every value spec becomes a function that reads,
splits, maps and transforms (the path split into steps, the template into parts, the transform options
bound), and every object spec a function over those. A row then costs calls, never a look at the spec:
ANPR exports run to millions of rows. A row that cannot become a valid record raises `RowError` with the
field, the source path and the reason; nothing is guessed. The group fields are filled here, from the
record itself: every identifier-typed field (wherever it sits in the schema) lands in `identifiers`, every
person's and organisation's name and alias in `names`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, partial
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from enrichers.identifiers import IDENTIFIER_TYPES, extract
from enrichers.language import detect_language
from enrichers.resolution import identifier_entity_ids, record_entity_ids
from ingest.records import (
    Details,
    IncidentDetails,
    Organisation,
    Person,
    Record,
    Vehicle,
    properties_of,
    record_id,
)
from ingest.sources.mapping import Mapping, Spec, ValueSpec, is_model, unwrap
from ingest.sources.transforms import TRANSFORMS, TransformError, decimal, integer

# What a source string becomes when the mapping names no transform: by the field's type, and for the
# identifier fields, their normalised form, so `identifiers` never holds a raw spelling.
TYPE_TRANSFORMS: dict[Any, str] = {
    datetime: "datetime",
    date: "date",
    bool: "boolean",
    int: "integer",
    float: "decimal",
}
FIELD_TRANSFORMS: dict[tuple[type[BaseModel], str], str] = {
    (Person, "name"): "person_name",
    (Person, "aliases"): "person_name",
    (Person, "national_number"): "national_number",
    (Organisation, "enterprise_number"): "enterprise_number",
    (Organisation, "name"): "collapse",
    (Vehicle, "plate"): "plate",
    (Vehicle, "vin"): "vin",
    (Record, "phones"): "phone",
    (Record, "ibans"): "iban",
    (Record, "emails"): "email",
    (IncidentDetails, "caller_phone"): "phone",
}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_FILLED_BY_ENGINE = {"id", "kind", "source", "register_", "recorded_at"}
_MISSING = object()
_MEMO_CHARS = 512  # longer texts (narratives) rarely repeat: computed each time, never kept
T = TypeVar("T")
_GROUPS = (list, dict)  # a row's value that holds several (a tuple: faster to test than `list | dict`)

Step = tuple[Callable[..., Any], dict[str, Any]]
Read = Callable[[Any], Any]  # a row (or a part of it) → the raw value at a path
Values = Callable[[Any, list[str]], list[Any]]  # a row → the values of one spec (warnings appended)
One = Callable[[Any, list[str]], Any]  # a row → the one value of a spec, or None
Build = Callable[[Any, list[str]], dict[str, Any] | None]  # a row → an object, None when it is empty
Items = Callable[[Any, list[str]], list[dict[str, Any]]]  # a row → the items of a list of objects


class RowError(ValueError):
    """Why one row could not become a record."""


@dataclass
class ValuePlan:
    spec: ValueSpec
    label: str
    steps: list[Step]
    many: bool
    csv: bool = False
    where: str = ""  # field and source, as a row error names them
    values: Values = field(init=False, repr=False)
    one: One = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.where = f"{self.label} ({self.spec.path or self.spec.template or 'value'})"
        self.values, self.one = _compile_values(self.spec, self.where, self.steps, self.csv)


@dataclass
class ObjectPlan:
    model: type[BaseModel]
    label: str
    each: str | None = None
    # A list field may read several sources (`phones: [GSM, Telefoon]`): one plan each.
    values: dict[str, list[ValuePlan]] = field(default_factory=dict)
    objects: dict[str, ObjectPlan] = field(default_factory=dict)
    lists: dict[str, list[ObjectPlan]] = field(default_factory=dict)
    aliases: list[ValuePlan] = field(default_factory=list)
    required: tuple[str, ...] = ()
    build: Build = field(init=False, repr=False)
    items: Items = field(init=False, repr=False)


# -- compiling a value spec ------------------------------------------------------------------------
def _steps(spec: ValueSpec, default: str | None) -> list[Step]:
    if spec.constant:
        return []
    if spec.transform:
        return [(TRANSFORMS[step.name], dict(step.options)) for step in spec.transform]
    return [(TRANSFORMS[default], {})] if default else []


def _value_plan(spec: ValueSpec, label: str, model: type[BaseModel], name: str, csv: bool) -> ValuePlan:
    if name == "aliases":
        base, many = str, True
    else:
        base, many = unwrap(model.model_fields[name].annotation)
    default = FIELD_TRANSFORMS.get((model, name)) or TYPE_TRANSFORMS.get(base)
    return ValuePlan(spec, label, _steps(spec, default), many, csv)


def _reader(path: str, csv: bool) -> Read:
    """The raw value at a dotted path (a CSV column name is taken whole)."""
    if csv:
        return lambda data: data.get(path) if isinstance(data, dict) else None
    steps = path.split(".")
    if len(steps) == 1:
        return lambda data: data.get(path) if type(data) is dict else _step(data, path)

    def read(node: Any) -> Any:
        for step in steps:
            node = node.get(step) if type(node) is dict else _step(node, step)
            if node is None:
                return None
        return node

    return read


def _leaves(raw: Any, label: str) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [leaf for item in raw for leaf in _leaves(item, label)]
    if isinstance(raw, dict):
        if "#text" in raw:
            return [raw["#text"]]
        raise RowError(f"{label}: the source holds a group of fields here, not one value")
    return [raw]


def _template(template: str, where: str, csv: bool) -> Read:
    """A template filled from the row: None when every placeholder is empty."""
    parts = _PLACEHOLDER.split(template)  # literal, path, literal, path, …, literal
    first = parts[0]
    # Each placeholder's reader with the literal that follows it.
    steps = [(_reader(path, csv), literal) for path, literal in zip(parts[1::2], parts[2::2], strict=True)]

    def render(data: Any) -> str | None:
        filled = False
        pieces = [first]
        for read, literal in steps:
            raw = read(data)
            if isinstance(raw, str):  # the common case, first
                text = raw.strip()
            elif raw is None:
                text = ""
            elif isinstance(raw, _GROUPS):
                text = ", ".join(v for v in (str(v).strip() for v in _leaves(raw, where)) if v)
            else:
                text = str(raw).strip()
            if text:
                filled = True
            pieces.append(text)
            pieces.append(literal)
        return " ".join("".join(pieces).split()) if filled else None

    return render


def _source(spec: ValueSpec, where: str, csv: bool) -> Read:
    if spec.constant:
        constant = spec.value
        return lambda data: constant
    if spec.template is not None:
        return _template(spec.template, where, csv)
    return _reader(str(spec.path), csv)


def memoised(function: Callable[[str], T], size: int = 1 << 14) -> Callable[[Any], T]:
    """`function` of a value's text, its results kept for the texts it has seen (the `size` latest,
    about; texts of up to `_MEMO_CHARS`, so the memory stays a few MB however long the texts).

    Registers repeat themselves: a plate passes a hundred cameras, a person recurs in every register, a
    101 call is described in one of a few ways; a transform or a scan of a text costs many times a
    lookup. For pure functions of a text whose results are never changed; a failure is not kept, so
    each raises afresh with its own message.
    """
    cache: dict[str, T] = {}

    def call(value: Any) -> T:
        text = value if isinstance(value, str) else str(value)
        found = cache.get(text, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        result = function(text)
        if len(text) <= _MEMO_CHARS:
            if len(cache) >= size:
                cache.clear()
            cache[text] = result
        return result

    return call


def _as_text(function: Callable[..., Any], options: dict[str, Any]) -> Callable[[Any], Any]:
    """A transform over the text of a value (a transform is a pure function of it: see transforms.py)."""
    if not options and function in _NATIVE:
        return _NATIVE[function]
    return memoised(partial(function, **options) if options else function)


def _native_integer(value: Any) -> Any:
    # An int's text is a whole number that reads back as the same int (a bool is no int here).
    return value if type(value) is int else integer(value if isinstance(value, str) else str(value))


def _native_decimal(value: Any) -> Any:
    # A float in this range prints without an exponent, so its text is an amount of the same value.
    if type(value) is float and (1e-4 <= abs(value) < 1e16 or value == 0):
        return value
    return decimal(value if isinstance(value, str) else str(value))


# Numbers a JSON export already holds as numbers skip the round trip through text where it cannot
# change them (a million plate reads carry seven numbers each).
_NATIVE: dict[Callable[..., Any], Callable[[Any], Any]] = {integer: _native_integer, decimal: _native_decimal}


def _converter(spec: ValueSpec, steps: list[Step]) -> Callable[[Any], Any] | None:
    """What a value goes through (a map, then the transforms); None when it stays as it is."""
    chain = [_as_text(function, options) for function, options in steps]

    def through_chain(value: Any) -> Any:
        for step in chain:
            value = step(value)
        return value

    transform = chain[0] if len(chain) == 1 else through_chain
    if spec.map is None:
        return transform if chain else None
    table, unmapped = spec.map, spec.unmapped

    def convert(value: Any) -> Any:
        key = str(value).strip().casefold()
        if key in table:
            value = table[key]
        elif unmapped == "empty":
            return None
        elif unmapped == "reject":
            known = ", ".join(str(k) for k in table)
            raise TransformError(f"{value!r} is not one of the mapped values ({known})")
        if value is None:
            return None
        return transform(value) if chain else value

    return convert


def _compile_values(spec: ValueSpec, where: str, steps: list[Step], csv: bool) -> tuple[Values, One]:
    """The values of a spec in a row, and its one value (a scalar in the row takes a shorter way)."""
    source = _source(spec, where, csv)
    # A plain dict's value at a one-step path is read in place: most values of most rows are.
    key = spec.path if spec.path is not None and (csv or "." not in spec.path) else None
    convert = _converter(spec, steps)
    split, drop, required = spec.split, spec.on_error == "drop", spec.required
    default = spec.default
    defaults = None if default is None else (list(default) if isinstance(default, list) else [default])

    def empty() -> list[Any]:
        out = list(defaults) if defaults is not None else []
        if not out and required:
            raise RowError(f"{where}: required, but empty")
        return out

    def values(data: Any, warnings: list[str]) -> list[Any]:
        raw = source(data)
        leaves = _leaves(raw, where) if raw is None or isinstance(raw, _GROUPS) else [raw]
        if split is not None:
            leaves = [part for value in leaves for part in str(value).split(split)]
        out = []
        for value in leaves:
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            try:
                result = value if convert is None else convert(value)
            except TransformError as exc:
                if drop:
                    warnings.append(f"{where}: {exc}; value left out")
                    continue
                raise RowError(f"{where}: {exc}") from exc
            if result is not None and result != "":
                out.append(result)
        return out or empty()

    def only(found: list[Any]) -> Any:
        if len(found) > 1:
            raise RowError(f"{where}: {len(found)} values where one is expected")
        return found[0] if found else None

    def nothing() -> None:
        return None

    def default_or_error() -> Any:
        return only(empty())

    # What an empty value gives, worked out now: nothing, or the default (a row error if required).
    absent = nothing if defaults is None and not required else default_or_error

    def settle(raw: Any, data: Any, warnings: list[str]) -> Any:
        """The one value a raw (not None) value of the row gives."""
        if isinstance(raw, str):
            raw = raw.strip()
            if not raw:
                return absent()
        elif split is not None or isinstance(raw, _GROUPS):
            return only(values(data, warnings))
        if convert is None:
            return raw  # a stripped text that is not empty, or a scalar of the row's own
        try:
            result = convert(raw)
        except TransformError as exc:
            if not drop:
                raise RowError(f"{where}: {exc}") from exc
            warnings.append(f"{where}: {exc}; value left out")
            return absent()
        return result if result is not None and result != "" else absent()

    if split is not None:  # a text split into parts: always the long way

        def one(data: Any, warnings: list[str]) -> Any:
            raw = source(data)
            return absent() if raw is None else only(values(data, warnings))

    elif key is not None and convert is None:  # a text kept as it is: most fields of most rows

        def one(data: Any, warnings: list[str]) -> Any:
            raw = data.get(key) if type(data) is dict else source(data)
            if type(raw) is str:
                raw = raw.strip()
                return raw if raw else absent()
            return absent() if raw is None else settle(raw, data, warnings)

    elif key is not None:

        def one(data: Any, warnings: list[str]) -> Any:
            raw = data.get(key) if type(data) is dict else source(data)
            return absent() if raw is None else settle(raw, data, warnings)

    else:

        def one(data: Any, warnings: list[str]) -> Any:
            raw = source(data)
            return absent() if raw is None else settle(raw, data, warnings)

    return values, _constant_one(spec, one) or one


def _constant_one(spec: ValueSpec, one: One) -> One | None:
    """A constant's one value, worked out once: what a row holds cannot change it. Only a plain value
    that comes out without a warning or an error is kept (a rejected map key raises for every row)."""
    if not spec.constant:
        return None
    warnings: list[str] = []
    try:
        value = one(None, warnings)
    except RowError:
        return None
    if warnings or not isinstance(value, str | int | float | bool):
        return None
    return lambda data, warnings: value


# -- compiling an object spec ----------------------------------------------------------------------
def compile_object(
    spec: Spec, model: type[BaseModel], label: str, csv: bool = False, top: bool = False
) -> ObjectPlan:
    required = tuple(name for name, info in model.model_fields.items() if info.is_required())
    if model is Record:
        required = tuple(name for name in required if name not in _FILLED_BY_ENGINE)
    plan = ObjectPlan(model, label, each=getattr(spec, "each", None), required=required)
    for name in type(spec).model_fields:  # schema order: the first problem of a row is always the same
        if name not in spec.model_fields_set:
            continue
        value = getattr(spec, name)
        where = f"{label}.{name}"
        if name == "each" or value is None:
            continue
        if name == "aliases":
            plan.aliases = [_value_plan(item, where, model, name, csv) for item in value]
            continue
        base, many = unwrap(model.model_fields[name].annotation)
        if is_model(base) and many:
            plan.lists[name] = [
                compile_object(item, base, f"{where}[{i}]", csv) for i, item in enumerate(value)
            ]
        elif is_model(base):
            plan.objects[name] = compile_object(value, base, where, csv)
        elif many:
            plan.values[name] = [_value_plan(item, where, model, name, csv) for item in value]
        else:
            plan.values[name] = [_value_plan(value, where, model, name, csv)]
    plan.build = _compile_build(plan, top)
    plan.items = _compile_items(plan, csv)
    return plan


def _many(readers: list[Values]) -> Callable[[Any, list[str]], list[Any] | None]:
    """A list field's values from all its sources, each once, in order; None when there are none."""
    if len(readers) == 1:
        (read,) = readers

        def one_source(data: Any, warnings: list[str]) -> list[Any] | None:
            found = read(data, warnings)
            return list(dict.fromkeys(found)) if found else None

        return one_source

    def sources(data: Any, warnings: list[str]) -> list[Any] | None:
        found = [v for read in readers for v in read(data, warnings)]
        return list(dict.fromkeys(found)) if found else None

    return sources


def _list_of(plans: list[ObjectPlan]) -> Callable[[Any, list[str]], list[dict[str, Any]] | None]:
    """A list of objects from all its item specs; None when there are none."""
    if len(plans) == 1 and plans[0].each is None and not plans[0].aliases:
        build = plans[0].build  # one object from the row itself (`vehicles: [{plate: …}]`): the common case

        def single(data: Any, warnings: list[str]) -> list[dict[str, Any]] | None:
            built = build(data, warnings)
            return None if built is None else [built]

        return single
    items_of = [plan.items for plan in plans]

    def items(data: Any, warnings: list[str]) -> list[dict[str, Any]] | None:
        return [item for items in items_of for item in items(data, warnings)] or None

    return items


def _compile_build(plan: ObjectPlan, top: bool) -> Build:
    # One getter per field, in the order the fields are checked (so a row's first error is always the
    # same one), each giving the field's value or None; and whether a value of it makes the object
    # something (a constant alone does not: it would make an object of every row).
    fields: list[tuple[str, Callable[[Any, list[str]], Any], bool]] = []
    for name, plans in plan.values.items():
        many, constant = plans[0].many, all(value_plan.spec.constant for value_plan in plans)
        get = _many([value_plan.values for value_plan in plans]) if many else plans[0].one
        fields.append((name, get, not constant))
    fields += [(name, sub.build, True) for name, sub in plan.objects.items()]
    fields += [(name, _list_of(items), True) for name, items in plan.lists.items()]
    label, required = plan.label, plan.required

    def build(data: Any, warnings: list[str]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        content = top
        for name, get, counts in fields:
            value = get(data, warnings)
            if value is not None:
                out[name] = value
                content = content or counts
        if not content:
            return None
        for name in required:
            if name not in out:
                missing = [name for name in required if name not in out]
                raise RowError(f"{label}: {', '.join(missing)} empty, but other fields are given")
        return out

    return build


def _compile_items(plan: ObjectPlan, csv: bool) -> Items:
    build = plan.build
    if plan.each is None and not plan.aliases:  # one object from the row itself: the common case

        def item(data: Any, warnings: list[str]) -> list[dict[str, Any]]:
            built = build(data, warnings)
            return [] if built is None else [built]

        return item
    each = _reader(plan.each, csv) if plan.each is not None else None
    aliases = [alias.values for alias in plan.aliases]

    def items(data: Any, warnings: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for source in [data] if each is None else _objects(each(data)):
            built = build(source, warnings)
            if built is None:
                continue
            out.append(built)
            found = [a for alias in aliases for a in alias(source, warnings)]
            for alias in dict.fromkeys(found):
                if alias != built.get("name"):
                    out.append({**built, "name": alias, "role": "alias"})
        return out

    return items


# -- the record ------------------------------------------------------------------------------------
@dataclass
class Built:
    record: Record
    warnings: list[str]


class Engine:
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.csv = csv = mapping.format == "csv"
        self.record_plan = compile_object(mapping.record, Record, "record", csv, top=True)
        self.details_plans: dict[str, ObjectPlan] = {}
        for kind in sorted(mapping.details.model_fields_set):
            spec = getattr(mapping.details, kind)
            if spec is not None:
                model, _ = unwrap(Details.model_fields[kind].annotation)
                self.details_plans[kind] = compile_object(spec, model, f"details.{kind}", csv)
        # Kind and keys are read as they are, through the transforms the mapping names.
        self.kind_plan = (
            ValuePlan(mapping.kind, "kind", _steps(mapping.kind, None), False, csv) if mapping.kind else None
        )
        self.key_plans = [
            ValuePlan(key, f"keys[{i}]", _steps(key, None), False, csv) for i, key in enumerate(mapping.keys)
        ]
        self._register = mapping.register_name
        # A register's free texts repeat too ("Wagen verdwenen van oprit."): scan each text once.
        self._mentions = memoised(_mentions, size=1 << 12)
        self._language = memoised(detect_language, size=1 << 12)
        self._collect_identifiers = _identifier_collector(Record)  # a document's identifiers, into a set

    def paths(self) -> set[str]:
        """Every source path the mapping reads (a CSV header must have them all)."""
        found: set[str] = set()

        def of_value(plan: ValuePlan) -> None:
            if plan.spec.path is not None:
                found.add(plan.spec.path)
            if plan.spec.template is not None:
                found.update(_PLACEHOLDER.findall(plan.spec.template))

        def of_object(plan: ObjectPlan) -> None:
            if plan.each:
                found.add(plan.each)
            for value in [*(v for vs in plan.values.values() for v in vs), *plan.aliases]:
                of_value(value)
            for sub in [*plan.objects.values(), *(p for ps in plan.lists.values() for p in ps)]:
                of_object(sub)

        of_object(self.record_plan)
        for details in self.details_plans.values():
            of_object(details)
        for key in [*self.key_plans, *([self.kind_plan] if self.kind_plan else [])]:
            of_value(key)
        return found

    def build(self, data: Any, *, case: str | None = None, now: datetime | None = None) -> Built:
        document, warnings = self.document(data, case=case, now=now)
        return Built(validated(document), warnings)

    def document(
        self, data: Any, *, case: str | None = None, now: datetime | None = None
    ) -> tuple[dict[str, Any], list[str]]:
        """A row as the plain document `build` validates into a record, with the row's warnings."""
        warnings: list[str] = []
        mapping = self.mapping
        kind = self.kind_plan.one(data, warnings) if self.kind_plan else mapping.kinds[0]
        if kind not in mapping.kinds:
            raise RowError(f"kind: {kind!r} is not one of {mapping.kinds}")
        keys = []
        for plan in self.key_plans:
            key = plan.one(data, warnings)
            if key is None:
                raise RowError(f"{plan.where}: a natural key is empty")
            keys.append(key)
        document = self.record_plan.build(data, warnings)
        assert document is not None  # the record is never empty: `top` counts as content
        details_plan = self.details_plans.get(kind)
        if details_plan is not None:
            details = details_plan.build(data, warnings)
            if details is not None:
                document["details"] = {kind: details}
        if case and case not in document.setdefault("case_ids", []):
            document["case_ids"].append(case)
        # The register is part of the key: two registers that number alike never overwrite each other.
        document.update(
            id=record_id(kind, self._register, *keys),
            kind=kind,
            source=mapping.source,
            register=self._register,
            recorded_at=now or datetime.now(UTC),
        )
        self._add_group_fields(document)
        return document, warnings

    def _add_group_fields(self, document: dict[str, Any]) -> None:
        """Mentions, language, identifiers, names and entity ids, added to the row's document before it is
        validated (once). Only text values are read: a value of another type fails validation all the
        same, and the group fields themselves never add a validation error."""
        text = document.get("text")
        if isinstance(text, str) and text:
            document["mentions"] = [dict(mention) for mention in self._mentions(text)]
            if document.get("language") is None:
                document["language"] = self._language(text)
        identifiers: set[str] = set()
        self._collect_identifiers(document, identifiers)
        document["identifiers"] = sorted(identifiers)
        persons, organisations = document.get("persons", ()), document.get("organisations", ())
        if persons or organisations:
            names = [item.get("name") for part in (persons, organisations) for item in part]
            document["names"] = list(dict.fromkeys(name for name in names if isinstance(name, str)))
        else:
            document["names"] = []
        # Entity ids: of the record's persons, organisations, vehicles, phones and accounts, then of the
        # identifiers its text names. A phone in another field (a 101 call's caller) is in `identifiers`,
        # in E.164: the one identifier form that starts with "+".
        phones = [*document.get("phones", ()), *[value for value in identifiers if value[:1] == "+"]]
        found = record_entity_ids(
            persons, organisations, document.get("vehicles", ()), phones, document.get("ibans", ())
        )
        mentions = document.get("mentions")
        if mentions:
            found += identifier_entity_ids((mention["type"], mention["value"]) for mention in mentions)
        document["entity_ids"] = list(dict.fromkeys(found))


def validated(document: dict[str, Any]) -> Record:
    """A row's document as a record; `RowError` with the first reasons when it is not a valid one."""
    try:
        return Record.model_validate(document)
    except PydanticValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:3]
        )
        raise RowError(f"not a valid record: {reasons}") from exc


def _mentions(text: str) -> tuple[dict[str, Any], ...]:
    """The identifiers a row's text names (dates and amounts identify nobody: left out)."""
    return tuple(
        {"type": f.type, "value": f.value, "start": f.start, "end": f.end}
        for f in extract(text)
        if f.type in IDENTIFIER_TYPES
    )


@cache
def _identifier_fields(model: type[BaseModel]) -> tuple[tuple[str, type[BaseModel] | None], ...]:
    """The fields of a model the index mapping normalises as identifiers, and the sub-models that hold
    some: (name in the document, sub-model or None). Read from the generated mapping, so a new
    identifier field anywhere in the schema is collected without a change here."""
    properties = properties_of(model)
    found: list[tuple[str, type[BaseModel] | None]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        base, _ = unwrap(info.annotation)
        if "properties" in properties[key] and is_model(base) and _identifier_fields(base):
            found.append((key, base))
        elif properties[key].get("normalizer") == "identifier":
            found.append((key, None))
    return tuple(found)


@cache
def _identifier_collector(model: type[BaseModel]) -> Callable[[dict[str, Any], set[str]], None]:
    """What adds every value of an identifier-typed field of a document of `model`, wherever it sits, to
    a set. The walk is worked out once per model (the sub-models' collectors bound): a row's document is
    then read only at the keys that can hold an identifier."""
    steps = [
        (key, None if sub is None else _identifier_collector(sub)) for key, sub in _identifier_fields(model)
    ]

    def collect(document: dict[str, Any], into: set[str]) -> None:
        for key, sub in steps:
            value = document.get(key)
            if not value:  # None, or an empty list: most identifier fields of a record are
                continue
            if sub is None:
                if isinstance(value, list):
                    into.update([str(item) for item in value if item])
                else:
                    into.add(str(value))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        sub(item, into)
            elif isinstance(value, dict):
                sub(value, into)

    return collect


def _step(node: Any, step: str) -> Any:
    if isinstance(node, list):
        if step.isdigit():
            index = int(step)
            return node[index] if index < len(node) else None
        found = [_step(item, step) for item in node]
        flat = [
            leaf
            for item in found
            if item is not None
            for leaf in (item if isinstance(item, list) else [item])
        ]
        return flat or None
    if isinstance(node, dict):
        return node.get(step)
    return None


def _objects(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return [item for item in (raw if isinstance(raw, list) else [raw]) if isinstance(item, dict)]
