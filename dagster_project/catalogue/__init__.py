"""One catalogue of every English and Welsh string the platform shows people: pages, extracts,
workbooks, submission reports and the command line. Each YAML file in this folder is one
section (its file name); inside it, every leaf is a pair `{en: ..., cy: ...}`, so a string and
its translation sit side by side and a test fails when either is missing or when their
`{placeholders}` differ.

    text("reports.verdict_loaded", "cy")      -> one string
    strings("cy", "pages")                   -> the section with every pair resolved to Welsh

Names that are reference data (bodies, sectors, services, indicators) are not here: they live in
the seed files beside the register (`dagster_project.reference`)."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("en", "cy")
CATALOGUE_DIR = Path(__file__).parent


@cache
def catalogue() -> dict[str, dict]:
    """Every section, keyed by file name, as written: leaves are `{"en": ..., "cy": ...}`."""
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(CATALOGUE_DIR.glob("*.yaml"))
    }


def is_pair(node: object) -> bool:
    return isinstance(node, dict) and set(node) == set(LANGUAGES)


def _resolve(node: object, language: str) -> object:
    if is_pair(node):
        return node[language]
    if isinstance(node, dict):
        return {key: _resolve(value, language) for key, value in node.items()}
    return node


@cache
def strings(language: str, section: str) -> dict:
    """One section with every pair resolved to `language`."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {LANGUAGES}")
    return _resolve(catalogue()[section], language)


def text(key: str, language: str, **values: object) -> str:
    """The string at dotted `key` ("section.name.sub") in `language`, formatted with `values`."""
    section, *path = key.split(".")
    node: object = strings(language, section)
    for part in path:
        node = node[part]  # type: ignore[index]
    if not isinstance(node, str):
        raise KeyError(f"{key} is a group of strings, not one string")
    return node.format(**values) if values else node


def pairs(node: object = None, prefix: str = "") -> list[tuple[str, object]]:
    """Every leaf of the catalogue with its dotted key: what the completeness test walks."""
    node = catalogue() if node is None else node
    if is_pair(node) or not isinstance(node, dict):
        return [(prefix, node)]
    found = []
    for key, value in node.items():
        found += pairs(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def placeholders(template: str) -> set[str]:
    """The `{names}` a string is formatted with."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
