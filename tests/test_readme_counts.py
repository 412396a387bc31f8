"""Every count of the catalogue the README states is the catalogue's count now ("238 operations" and "476 schemas"
had gone stale as entries were generated). A new count in the README must be added to CLAIMS, or the last test
fails."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT
from outreach_connector.catalog import CatalogFolder, load_entries

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENTRIES = load_entries()
SEED = sum(e.origin == "seed" for e in ENTRIES)
GENERATED = sum(e.origin == "outreach-schema" for e in ENTRIES)
DDLS = sum(e.kind == "ddl" for e in ENTRIES)
GENERATED_DDLS = sum(e.kind == "ddl" and e.origin == "outreach-schema" for e in ENTRIES)
SCHEMA_FILES = sum(1 for folder in ("operations", "ddl") for _ in (ROOT / "schemas" / folder).glob("*.json"))
YAML_FILES = len(CatalogFolder(ROOT).entry_files())

# (the README's wording, with each count a group) -> what each count must be
CLAIMS = {
    r"It implements all (\d+) operations": (SEED,),
    r"plus (\d+) more generated": (GENERATED,),
    r"all (\d+) operations' input schemas \(the seed's (\d+) and the (\d+) generated": (len(ENTRIES), SEED, GENERATED),
    r"on all (\d+) DDLs, the (\d+) generated": (DDLS, GENERATED_DDLS),
    r"has (\d+) entries in (\d+) YAML files": (len(ENTRIES), YAML_FILES),
    r"parsing (\d+) YAML files": (YAML_FILES,),
    r"catalogue's (\d+) schemas": (SCHEMA_FILES,),
    r"`outreach-schema` for the (\d+) generated": (GENERATED,),
    r"The seed's (\d+) operations \(the documented": (SEED,),
    r"### (\d+) more generated from": (GENERATED,),
}
COUNT = re.compile(r"\b(\d+) (?:more )?(?:operations|entries|schemas|generated|YAML files|DDLs)\b")


@pytest.mark.parametrize("wording", CLAIMS)
def test_each_count_is_the_catalogues(wording):
    found = [tuple(int(n) for n in match.groups()) for match in re.finditer(wording, README)]
    assert found and set(found) == {CLAIMS[wording]}


def test_every_count_of_the_catalogue_in_the_readme_is_checked():
    checked = [match.span() for wording in CLAIMS for match in re.finditer(wording, README)]
    unchecked = [match.group() for match in COUNT.finditer(README)
                 if not any(start <= match.start() < end for start, end in checked)]
    assert unchecked == ["200 generated"]  # URLs the URL-safety test generates, not catalogue entries
