"""Row → Record: a validated mapping applied to one row of an export.

The mapping is compiled once into plans (which transform runs on which field); each row then costs a
walk over the plan. A row that cannot become a valid record raises `RowError` with the field, the source
path and the reason; nothing is guessed. The group fields are filled here, from the record itself: every
identifier-typed field (wherever it sits in the schema) lands in `identifiers`, every person's and
organisation's name and alias in `names`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from enrichers.identifiers import extract
from enrichers.language import detect_language
from ingest.records import (
    Details,
    IncidentDetails,
    Mention,
    Organisation,
    Person,
    Record,
    Vehicle,
    index_mapping,
    record_id,
)
from ingest.sources.mapping import Mapping, Spec, ValueSpec, is_model, unwrap
from ingest.sources.transforms import TRANSFORMS, TransformError

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


class RowError(ValueError):
    """Why one row could not become a record."""


@dataclass
class ValuePlan:
    spec: ValueSpec
    label: str
    steps: list[tuple[Callable[..., Any], dict[str, Any]]]
    many: bool
    where: str = ""  # field and source, as a row error names them

    def __post_init__(self) -> None:
        self.where = f"{self.label} ({self.spec.path or self.spec.template or 'value'})"


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


def _steps(spec: ValueSpec, default: str | None) -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    if spec.constant:
        return []
    if spec.transform:
        return [(TRANSFORMS[step.name], dict(step.options)) for step in spec.transform]
    return [(TRANSFORMS[default], {})] if default else []


def _value_plan(spec: ValueSpec, label: str, model: type[BaseModel], name: str) -> ValuePlan:
    if name == "aliases":
        base, many = str, True
    else:
        base, many = unwrap(model.model_fields[name].annotation)
    default = FIELD_TRANSFORMS.get((model, name)) or TYPE_TRANSFORMS.get(base)
    return ValuePlan(spec, label, _steps(spec, default), many)


def compile_object(spec: Spec, model: type[BaseModel], label: str) -> ObjectPlan:
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
            plan.aliases = [_value_plan(item, where, model, name) for item in value]
            continue
        base, many = unwrap(model.model_fields[name].annotation)
        if is_model(base) and many:
            plan.lists[name] = [compile_object(item, base, f"{where}[{i}]") for i, item in enumerate(value)]
        elif is_model(base):
            plan.objects[name] = compile_object(value, base, where)
        elif many:
            plan.values[name] = [_value_plan(item, where, model, name) for item in value]
        else:
            plan.values[name] = [_value_plan(value, where, model, name)]
    return plan


@cache
def _schema() -> dict[str, Any]:
    return dict(index_mapping()["properties"])


def _collect_identifiers(document: Any, properties: dict[str, Any], into: set[str]) -> None:
    """Every value of an identifier-typed field, found through the generated index mapping."""
    for key, value in document.items():
        prop = properties.get(key)
        if prop is None or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if "properties" in prop:
            for item in values:
                if isinstance(item, dict):
                    _collect_identifiers(item, prop["properties"], into)
        elif prop.get("normalizer") == "identifier":
            into.update(str(item) for item in values if item)


@dataclass
class Built:
    record: Record
    warnings: list[str]


class Engine:
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.csv = mapping.format == "csv"
        self.record_plan = compile_object(mapping.record, Record, "record")
        self.details_plans: dict[str, ObjectPlan] = {}
        for kind in sorted(mapping.details.model_fields_set):
            spec = getattr(mapping.details, kind)
            if spec is not None:
                model, _ = unwrap(Details.model_fields[kind].annotation)
                self.details_plans[kind] = compile_object(spec, model, f"details.{kind}")
        # Kind and keys are read as they are, through the transforms the mapping names.
        self.kind_plan = (
            ValuePlan(mapping.kind, "kind", _steps(mapping.kind, None), False) if mapping.kind else None
        )
        self.key_plans = [
            ValuePlan(key, f"keys[{i}]", _steps(key, None), False) for i, key in enumerate(mapping.keys)
        ]

    # -- reading the row ---------------------------------------------------------------------------
    def lookup(self, data: Any, path: str) -> Any:
        if self.csv:
            return data.get(path) if isinstance(data, dict) else None
        node = data
        for step in path.split("."):
            node = _step(node, step)
            if node is None:
                return None
        return node

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

    def _leaves(self, raw: Any, label: str) -> list[Any]:
        if raw is None:
            return []
        if isinstance(raw, list):
            return [leaf for item in raw for leaf in self._leaves(item, label)]
        if isinstance(raw, dict):
            if "#text" in raw:
                return [raw["#text"]]
            raise RowError(f"{label}: the source holds a group of fields here, not one value")
        return [raw]

    def _render(self, template: str, data: Any, label: str) -> str | None:
        filled = False

        def fill(match: re.Match[str]) -> str:
            nonlocal filled
            values = [str(v).strip() for v in self._leaves(self.lookup(data, match.group(1)), label)]
            text = ", ".join(v for v in values if v)
            filled = filled or bool(text)
            return text

        text = " ".join(_PLACEHOLDER.sub(fill, template).split())
        return text if filled else None

    def evaluate(self, plan: ValuePlan, data: Any, warnings: list[str]) -> list[Any]:
        spec, where = plan.spec, plan.where
        if spec.constant:
            raw = spec.value
        elif spec.template is not None:
            raw = self._render(spec.template, data, where)
        else:
            raw = self.lookup(data, str(spec.path))
        values = self._leaves(raw, where)
        if spec.split is not None:
            values = [part for value in values for part in str(value).split(spec.split)]
        out = []
        for value in values:
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            try:
                result = self._convert(spec, plan, value)
            except TransformError as exc:
                if spec.on_error == "drop":
                    warnings.append(f"{where}: {exc}; value left out")
                    continue
                raise RowError(f"{where}: {exc}") from exc
            if result is not None and result != "":
                out.append(result)
        if not out and spec.default is not None:
            out = list(spec.default) if isinstance(spec.default, list) else [spec.default]
        if not out and spec.required:
            raise RowError(f"{where}: required, but empty")
        return out

    def _convert(self, spec: ValueSpec, plan: ValuePlan, value: Any) -> Any:
        if spec.map is not None:
            key = str(value).strip().casefold()
            if key in spec.map:
                value = spec.map[key]
            elif spec.unmapped == "empty":
                return None
            elif spec.unmapped == "reject":
                known = ", ".join(str(k) for k in spec.map)
                raise TransformError(f"{value!r} is not one of the mapped values ({known})")
            if value is None:
                return None
        for function, options in plan.steps:
            value = function(value if isinstance(value, str) else str(value), **options)
        return value

    def _one(self, plan: ValuePlan, data: Any, warnings: list[str]) -> Any:
        values = self.evaluate(plan, data, warnings)
        if len(values) > 1:
            raise RowError(f"{plan.where}: {len(values)} values where one is expected")
        return values[0] if values else None

    def build_object(self, plan: ObjectPlan, data: Any, warnings: list[str], top: bool = False) -> Any:
        out: dict[str, Any] = {}
        content = top
        for name, value_plans in plan.values.items():
            if value_plans[0].many:
                values = [v for value_plan in value_plans for v in self.evaluate(value_plan, data, warnings)]
                value: Any = list(dict.fromkeys(values)) if values else None
            else:
                value = self._one(value_plans[0], data, warnings)
            if value is not None:
                out[name] = value
                content = content or not all(value_plan.spec.constant for value_plan in value_plans)
        for name, sub_plan in plan.objects.items():
            sub = self.build_object(sub_plan, data, warnings)
            if sub is not None:
                out[name], content = sub, True
        for name, item_plans in plan.lists.items():
            items = [item for item_plan in item_plans for item in self._items(item_plan, data, warnings)]
            if items:
                out[name], content = items, True
        if not content:
            return None
        missing = [name for name in plan.required if name not in out]
        if missing:
            raise RowError(f"{plan.label}: {', '.join(missing)} empty, but other fields are given")
        return out

    def _items(self, plan: ObjectPlan, data: Any, warnings: list[str]) -> Iterable[dict[str, Any]]:
        sources = [data] if plan.each is None else _objects(self.lookup(data, plan.each))
        for source in sources:
            item = self.build_object(plan, source, warnings)
            if item is None:
                continue
            yield item
            aliases = [a for alias in plan.aliases for a in self.evaluate(alias, source, warnings)]
            for alias in dict.fromkeys(aliases):
                if alias != item.get("name"):
                    yield {**item, "name": alias, "role": "alias"}

    # -- the record --------------------------------------------------------------------------------
    def build(self, data: Any, *, case: str | None = None, now: datetime | None = None) -> Built:
        warnings: list[str] = []
        mapping = self.mapping
        kind = self._one(self.kind_plan, data, warnings) if self.kind_plan else mapping.kinds[0]
        if kind not in mapping.kinds:
            raise RowError(f"kind: {kind!r} is not one of {mapping.kinds}")
        keys = []
        for plan in self.key_plans:
            key = self._one(plan, data, warnings)
            if key is None:
                raise RowError(f"{plan.where}: a natural key is empty")
            keys.append(key)
        document = self.build_object(self.record_plan, data, warnings, top=True)
        if kind in self.details_plans:
            details = self.build_object(self.details_plans[kind], data, warnings)
            if details is not None:
                document["details"] = {kind: details}
        if case and case not in document.setdefault("case_ids", []):
            document["case_ids"].append(case)
        # The register is part of the key: two registers that number alike never overwrite each other.
        document.update(
            id=record_id(kind, mapping.register_name, *keys),
            kind=kind,
            source=mapping.source,
            register=mapping.register_name,
            recorded_at=now or datetime.now(UTC),
        )
        try:
            record = Record.model_validate(document)
        except PydanticValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:3]
            )
            raise RowError(f"not a valid record: {reasons}") from exc
        return Built(_with_group_fields(record), warnings)


def _with_group_fields(record: Record) -> Record:
    if record.text:
        found = extract(record.text)
        record.mentions = [Mention(type=f.type, value=f.value, start=f.start, end=f.end) for f in found]
        if record.language is None:
            record.language = detect_language(record.text)
    identifiers: set[str] = set()
    _collect_identifiers(record.document(), _schema(), identifiers)
    record.identifiers = sorted(identifiers)
    names = [person.name for person in record.persons] + [org.name for org in record.organisations]
    record.names = list(dict.fromkeys(names))
    return record


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
