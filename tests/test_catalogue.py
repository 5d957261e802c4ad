"""The one catalogue of English and Welsh strings: every key in both languages, the same
placeholders in both, and nothing left in English on the Welsh side by copy and paste."""

from __future__ import annotations

import re

import pytest

from dagster_project.catalogue import LANGUAGES, catalogue, pairs, placeholders, strings, text
from dagster_project.reference import load_reference

LEAVES = pairs()


def test_the_catalogue_has_sections_and_strings():
    assert "pages" in catalogue()
    assert len(LEAVES) > 100


@pytest.mark.parametrize("key,pair", LEAVES, ids=[key for key, _ in LEAVES])
def test_every_key_is_in_both_languages(key, pair):
    assert isinstance(pair, dict) and set(pair) == set(LANGUAGES), (
        f"{key}: expected a pair {{en: ..., cy: ...}}, found {pair!r}"
    )
    for language in LANGUAGES:
        value = pair[language]
        assert value not in (None, "", {}), f"{key}: no {language} text"
    if isinstance(pair["en"], str):
        assert isinstance(pair["cy"], str), key
        assert placeholders(pair["en"]) == placeholders(pair["cy"]), (
            f"{key}: placeholders differ: en {sorted(placeholders(pair['en']))}, "
            f"cy {sorted(placeholders(pair['cy']))}"
        )


def test_welsh_is_not_english_copied_over():
    # Short words may legitimately be the same in both ("Score" is not, "CSV" is): allow
    # codes, paths, formats and single tokens, but no English sentence on the Welsh side.
    def words(value: str) -> list[str]:
        return re.findall(r"[A-Za-z]{2,}", re.sub(r"\{[^}]*\}", "", value))

    same = [
        key
        for key, pair in LEAVES
        if isinstance(pair["en"], str) and pair["en"] == pair["cy"] and len(words(pair["en"])) > 1
    ]
    assert same == [], f"these strings are identical in English and Welsh: {same}"


def test_text_formats_the_string_in_the_language_asked():
    assert text("pages.in_wales", "en", rank="3rd", total=38) == "3rd of 38 in Wales"
    assert text("pages.in_wales", "cy", rank="3ydd", total=38) != "3ydd of 38 in Wales"
    with pytest.raises(ValueError, match="language"):
        strings("fr", "pages")


def test_every_sector_has_an_english_and_a_welsh_name():
    reference = load_reference()
    registered = {body["sector"] for body in reference.bodies}
    for language in LANGUAGES:
        names = reference.sector_names(language)
        assert registered <= set(names), f"sectors without a {language} name"
        assert all(name and "_" not in name for name in names.values())
    assert reference.sector_names("en")["fire_rescue"] == "Fire and rescue authorities"
    assert reference.sector_names("cy")["fire_rescue"] == "Awdurdodau tân ac achub"
