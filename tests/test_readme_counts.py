"""Every count of the catalogue the README and the docs state is the catalogue's count now ("238 operations" and
"476 schemas" had gone stale as entries were generated). A new count in one of them must be added to CLAIMS, or
the last test fails."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT
from outreach_connector.catalogue_folders import CatalogueFolder, load_entries

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Whitespace as one space: a count may be wrapped onto the next line.
TEXT = {page.relative_to(ROOT).as_posix(): " ".join(page.read_text(encoding="utf-8").split()) for page in PAGES}
ENTRIES = load_entries()
SEED = sum(e.origin == "seed" for e in ENTRIES)
GENERATED = sum(e.origin == "outreach-schema" for e in ENTRIES)
DDLS = sum(e.kind == "ddl" for e in ENTRIES)
GENERATED_DDLS = sum(e.kind == "ddl" and e.origin == "outreach-schema" for e in ENTRIES)
SCHEMA_FILES = sum(1 for folder in ("operations", "ddl") for _ in (ROOT / "schemas" / folder).glob("*.json"))
YAML_FILES = len(CatalogueFolder(ROOT).entry_files())

# (the wording, with each count a group) -> what each count must be, and the page that states it
CLAIMS = {
    r"It implements all (\d+) operations": ((SEED,), "README.md"),
    r"plus (\d+) more generated": ((GENERATED,), "README.md"),
    r"all (\d+) operations' input schemas \(the seed's (\d+) and the (\d+) generated":
        ((len(ENTRIES), SEED, GENERATED), "docs/reliability.md"),
    r"on all (\d+) DDLs, the (\d+) generated": ((DDLS, GENERATED_DDLS), "docs/dropdowns.md"),
    r"has (\d+) entries in (\d+) YAML files": ((len(ENTRIES), YAML_FILES), "docs/performance.md"),
    r"parsing (\d+) YAML files": ((YAML_FILES,), "docs/development.md"),
    r"catalogue's (\d+) schemas": ((SCHEMA_FILES,), "docs/performance.md"),
    r"`outreach-schema` for the (\d+) generated": ((GENERATED,), "docs/operations.md"),
    r"The seed's (\d+) operations \(the documented": ((SEED,), "docs/operations.md"),
    r"## (\d+) more generated from": ((GENERATED,), "docs/operations.md"),
    r"the (\d+) documented operations, \d+ KB": ((SEED,), "README.md"),  # MCP's presets
    r"`all` \((\d+) tools": ((len(ENTRIES),), "README.md"),
}
COUNT = re.compile(r"\b(\d+) (?:more )?(?:operations|entries|schemas|generated|YAML files|DDLs)\b")
# Counts of something else that the wording above would take for the catalogue's.
NOT_THE_CATALOGUE = {
    ("docs/reliability.md", "200 generated"),  # URLs the URL-safety test generates
    ("docs/reliability.md", "100 entries"),  # field errors listed in one 400
}


@pytest.mark.parametrize("wording", CLAIMS)
def test_each_count_is_the_catalogues(wording):
    counts, page = CLAIMS[wording]
    found = [tuple(int(n) for n in match.groups()) for match in re.finditer(wording, TEXT[page])]
    assert found and set(found) == {counts}


def test_every_count_of_the_catalogue_in_the_readme_and_the_docs_is_checked():
    unchecked = set()
    for page, text in TEXT.items():
        checked = [match.span() for wording in CLAIMS for match in re.finditer(wording, text)]
        unchecked |= {(page, match.group()) for match in COUNT.finditer(text)
                      if not any(start <= match.start() < end for start, end in checked)}
    assert unchecked == NOT_THE_CATALOGUE
