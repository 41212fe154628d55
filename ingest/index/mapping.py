"""Index settings and the index template: analysis chains and the closed mapping of `records`."""

from __future__ import annotations

from typing import Any

from ingest.records import index_mapping

ANALYSIS: dict[str, Any] = {
    "filter": {
        "name_phonetic": {"type": "phonetic", "encoder": "double_metaphone", "replace": True},
        # "Jan Van den Bossche" also as "vandenbossche", "janvanden", …: parts written together or apart.
        "name_joined": {
            "type": "shingle",
            "min_shingle_size": 2,
            "max_shingle_size": 4,
            "output_unigrams": True,
            "token_separator": "",
        },
        "strip_separators": {"type": "pattern_replace", "pattern": "[^\\p{L}\\p{N}]", "replacement": ""},
    },
    "char_filter": {
        # Separators inside identifiers (dots, dashes, spaces, slashes) carry no meaning.
        "identifier_separators": {"type": "pattern_replace", "pattern": "[\\s.\\-/_]", "replacement": ""},
        "name_separators": {"type": "pattern_replace", "pattern": "[^\\p{L}\\p{N}]", "replacement": ""},
    },
    "normalizer": {
        "identifier": {"type": "custom", "char_filter": ["identifier_separators"], "filter": ["uppercase"]},
        "compact_name": {
            "type": "custom",
            "char_filter": ["name_separators"],
            "filter": ["lowercase", "icu_folding"],
        },
    },
    "analyzer": {
        "folded": {"type": "custom", "tokenizer": "icu_tokenizer", "filter": ["icu_folding"]},
        "name": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "icu_folding"]},
        "name_joined": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "icu_folding", "name_joined"],
        },
        # What was typed, as one token without spaces or marks: "Van den Bossche" -> "vandenbossche".
        "name_compact_query": {
            "type": "custom",
            "tokenizer": "keyword",
            "char_filter": ["name_separators"],
            "filter": ["lowercase", "icu_folding"],
        },
        "name_phonetic": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "icu_folding", "name_phonetic"],
        },
    },
}


def index_settings(replicas: int = 0) -> dict[str, Any]:
    return {
        "number_of_shards": 1,
        "number_of_replicas": replicas,
        "max_result_window": 10000,
        "analysis": ANALYSIS,
    }


def index_template(prefix: str) -> dict[str, Any]:
    """Every concrete index `<prefix>-<kind>-<stamp>` gets these settings and this mapping."""
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": 100,
        "template": {"settings": {"index": index_settings()}, "mappings": index_mapping()},
    }


def monthly_template(prefix: str, kind: str) -> dict[str, Any]:
    """Monthly partitions `<prefix>-<kind>-YYYY.MM` are created by their first write and join the
    read alias by themselves; the template wins over the general one by its priority."""
    return {
        "index_patterns": [f"{prefix}-{kind}-*"],
        "priority": 200,
        "template": {
            "settings": {"index": index_settings()},
            "mappings": index_mapping(),
            "aliases": {prefix: {}},
        },
    }
