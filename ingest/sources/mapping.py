"""A register's mapping: a YAML file that says how one export format becomes unified records.

The mapping is validated when it is loaded, against a model generated from `Record` itself: every key
under `record:` and `details:` must be a field of the record (or of its persons, vehicles, …), so a typo
is an error naming the file, the YAML line and the field, never a silently empty field. See
docs/registers.md for the format.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ingest.records import Details, Kind, Person, Record
from ingest.sources.readers import ReadOptions
from ingest.sources.transforms import TRANSFORMS, options_of

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

# Record fields the engine fills itself (or, for `details`, a section of its own); a mapping cannot set them.
COMPUTED = {"id", "kind", "source", "register_", "recorded_at", "identifiers", "names", "mentions", "details"}
COMPUTED |= {"provenance"}  # documents' file history: a register row has none


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    # The record model a generated spec stands for (`PersonSpec.target is Person`).
    target: ClassVar[type[BaseModel] | None] = None


class Step(Spec):
    """One transform with its options: `date`, or `{datetime: {format: "%Y%m%d%H%M"}}`."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data}
        if isinstance(data, dict) and len(data) == 1 and "name" not in data:
            ((name, options),) = data.items()
            return {"name": name, "options": options or {}}
        return data

    @model_validator(mode="after")
    def _known(self) -> Step:
        if self.name not in TRANSFORMS:
            raise ValueError(f"unknown transform {self.name!r}; known: {', '.join(sorted(TRANSFORMS))}")
        unknown = set(self.options) - options_of(self.name)
        if unknown:
            takes = ", ".join(sorted(options_of(self.name))) or "no options"
            raise ValueError(f"transform {self.name!r} has no option {sorted(unknown)}; it takes {takes}")
        return self


class ValueSpec(Spec):
    """Where one value comes from and what is done to it; a bare string is a `path`."""

    path: str | None = None
    value: Any = None
    template: str | None = None
    split: str | None = None
    map: dict[str, Any] | None = None
    unmapped: Literal["reject", "keep", "empty"] = "reject"
    transform: list[Step] = Field(default_factory=list)
    default: Any = None
    required: bool = False
    on_error: Literal["reject", "drop"] = "reject"

    @model_validator(mode="before")
    @classmethod
    def _path_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"path": data}
        if isinstance(data, dict) and isinstance(data.get("transform"), str | dict):
            return {**data, "transform": [data["transform"]]}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        sources = [key for key in ("path", "value", "template") if key in self.model_fields_set]
        if len(sources) != 1:
            raise ValueError(f"give exactly one of path, value or template (found: {sources or 'none'})")
        if self.template is not None and not re.search(r"\{[^{}]+\}", self.template):
            raise ValueError("a template names at least one {path}")
        return self

    @field_validator("map")
    @classmethod
    def _fold_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # Exports spell enums in any case: "PV", "pv", "Pv " are one key.
        return None if value is None else {str(key).strip().casefold(): item for key, item in value.items()}

    @property
    def constant(self) -> bool:
        return "value" in self.model_fields_set


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The base type of a field and whether it is a list (Optional and Annotated peeled off)."""
    is_list = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is list:
            is_list, annotation = True, get_args(annotation)[0]
        elif origin is not None and type(None) in get_args(annotation):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        else:
            return annotation, is_list


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _as_list(data: Any) -> Any:
    return [data] if isinstance(data, dict | str) else data


@functools.cache
def spec_model(model: type[BaseModel], item: bool = False) -> type[Spec]:
    """The mapping-side twin of a record model: the same field names, each taking a value spec (or, for
    a sub-model, its own spec). List items may read from a repeated part of the row (`each`)."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if model is Record and name in COMPUTED:
            continue
        base, is_list = unwrap(info.annotation)
        if is_model(base):
            sub = spec_model(base, item=is_list)
            fields[name] = (list[sub], Field(default_factory=list)) if is_list else (sub | None, None)  # type: ignore[valid-type]
        elif is_list:
            fields[name] = (list[ValueSpec], Field(default_factory=list))
        else:
            fields[name] = (ValueSpec | None, None)
    if item:
        fields["each"] = (str | None, None)
    if model is Person:
        fields["aliases"] = (list[ValueSpec], Field(default_factory=list))
    validators = {"_lists": field_validator("*", mode="before")(_lists)}
    spec = create_model(f"{model.__name__}Spec", __base__=Spec, __validators__=validators, **fields)
    spec.target = model
    return spec


def _lists(cls: type[Spec], value: Any, info: Any) -> Any:
    # `phones: GSM` is `phones: [GSM]`: one spec where a list of them is expected.
    annotation = cls.model_fields[info.field_name].annotation
    return _as_list(value) if get_origin(annotation) is list else value


if TYPE_CHECKING:  # generated at import; to the type checker they are specs like any other
    RecordSpec = Spec
    DetailsSpec = Spec
else:
    RecordSpec = spec_model(Record)
    DetailsSpec = spec_model(Details)


class Options(Spec):
    encoding: str = "utf-8-sig"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    quotechar: Annotated[str, Field(min_length=1, max_length=1)] = '"'
    record_path: str = ""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        codecs.lookup(value)  # LookupError -> "unknown encoding"
        return value


class Mapping(Spec):
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    # `register` would shadow BaseModel.register, as in Record.
    register_: Annotated[str | None, Field(alias="register", pattern=r"^[a-z][a-z0-9_]*$")] = None
    description: str = ""
    kinds: Annotated[list[Kind], Field(min_length=1)]
    format: Literal["csv", "json", "ndjson", "xml"]
    options: Options = Options()
    kind: ValueSpec | None = None
    keys: Annotated[list[ValueSpec], Field(min_length=1)]
    record: RecordSpec
    details: DetailsSpec = DetailsSpec()
    _file: Path | None = PrivateAttr(None)

    @property
    def file(self) -> Path | None:
        """The YAML file the mapping was loaded from."""
        return self._file

    @property
    def register_name(self) -> str:
        return self.register_ or self.source

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(
            format=self.format,
            encoding=self.options.encoding,
            delimiter=self.options.delimiter,
            quotechar=self.options.quotechar,
            record_path=self.options.record_path,
        )

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """What the schema alone cannot say: the parts of a mapping that must agree with each other."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if "document" in self.kinds:
            found.append((("kinds",), "documents come from the document pipeline, not from a mapping"))
        if len(set(self.kinds)) != len(self.kinds):
            found.append((("kinds",), "a kind is listed twice"))
        if self.kind is None and len(self.kinds) > 1:
            found.append((("kinds",), "several kinds: say under `kind:` how a row chooses its kind"))
        if self.kind is not None:
            if self.kind.constant and self.kind.value not in self.kinds:
                found.append((("kind", "value"), f"{self.kind.value!r} is not one of kinds {self.kinds}"))
            for key, value in (self.kind.map or {}).items():
                if value not in self.kinds:
                    found.append((("kind", "map", key), f"{value!r} is not one of kinds {self.kinds}"))
        for kind in self.details.model_fields_set:
            if kind not in self.kinds:
                found.append((("details", kind), f"details for {kind!r}, which is not one of {self.kinds}"))
        if getattr(self.record, "title", None) is None:
            found.append((("record",), "every record needs a `title`"))
        if self.format == "xml" and not self.options.record_path:
            found.append((("options",), "name the records' element: `record_path: Export/Item`"))
        return found


# -- loading ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(mapping)'}: {self.message}"


class MappingError(ValueError):
    """A mapping that cannot be used: every problem with its file, line and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def _locate(tree: Any, loc: tuple[str | int, ...]) -> tuple[int, tuple[str | int, ...]]:
    """The YAML line (1-based) of the deepest part of `loc` the file has, and `loc` spelled as the file
    spells it (map keys are folded once loaded: `oi` is written `OI`)."""
    node, line, spelled = tree, 1, list(loc)
    for index, part in enumerate(loc):
        if isinstance(node, CommentedMap):
            key = part if part in node else next((k for k in node if str(k).strip().casefold() == part), None)
            if key is None:
                continue
            line, node, spelled[index] = node.lc.key(key)[0] + 1, node[key], key
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, node = node.lc.item(part)[0] + 1, node[part]
    return line, tuple(spelled)


def _problem(file: str, tree: Any, loc: tuple[str | int, ...], message: str) -> Problem:
    line, spelled = _locate(tree, loc)
    return Problem(file, line, _field_name(spelled), message)


def _field_name(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The spec model a location inside the mapping lands in (to list the fields it does take)."""
    model: type[BaseModel] = Mapping
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        base, _ = unwrap(info.annotation)
        if not is_model(base):
            return None
        model = base
    return model


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        if model is None:
            return "unknown field"
        what = "the mapping" if model is Mapping else (getattr(model, "target", None) or model).__name__
        takes = ", ".join(info.alias or name for name, info in model.model_fields.items())
        return f"unknown field of {what}; it takes: {takes}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file; raise `MappingError` naming every problem, file and line."""
    path = Path(path)
    shown = str(path)
    try:
        tree = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise MappingError([Problem(shown, line, "", f"not valid YAML: {exc.problem}")]) from exc
    if not isinstance(tree, CommentedMap):
        raise MappingError([Problem(shown, 1, "", "a mapping file is a YAML mapping (key: value)")])
    try:
        mapping = Mapping.model_validate(tree)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = _clean(tuple(error["loc"]))
            problems.append(_problem(shown, tree, loc, _message(error, loc)))
        raise MappingError(problems) from exc
    problems = [_problem(shown, tree, loc, text) for loc, text in mapping.problems()]
    if problems:
        raise MappingError(problems)
    mapping._file = path
    return mapping


def _clean(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # pydantic adds the name of the model or validator it tried ("function-before[...]"): not a field.
    return tuple(part for part in loc if isinstance(part, int) or not re.search(r"[\[\]()]", str(part)))


def mapping_path(name: str) -> Path:
    """A register's packaged mapping by name, or a mapping file given by path."""
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"}:
        return candidate
    path = MAPPINGS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"no mapping for register {name!r}; known: {known}")
    return path


def packaged_mappings() -> list[Path]:
    return sorted(MAPPINGS_DIR.glob("*.yaml"))
