"""Generated titles and ``advanced`` (tools/editor_fields.py), as the committed input schemas carry them."""
from __future__ import annotations

import re

import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_connector.spec import GENERATED_KINDS
from outreach_connector.validation import schema_of
from tools import editor_fields


@pytest.mark.parametrize(("name", "title"), [
    ("prospect_id", "Prospect ID"), ("mailbox_id", "Mailbox ID"), ("firstName", "First name"),
    ("websiteUrl1", "Website URL 1"), ("linkedInUrl", "LinkedIn URL"), ("custom12", "Custom 12"),
    ("smtpSsl", "SMTP SSL"), ("HTMLBody", "HTML body"), ("githubUsername", "GitHub username"), ("ids", "IDs"),
])
def test_a_name_reads_as_a_person_writes_it(name, title):
    assert editor_fields.readable(name) == title


def properties(schema, path=""):
    """(path, name, schema) of every named property, at any depth."""
    if isinstance(schema, list):
        for item in schema:
            yield from properties(item, path)
    elif isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            yield f"{path}.{name}", name, sub
        for key, value in schema.items():
            if key not in ("enum", "const", "default", "lookup"):
                yield from properties(value, path)


def test_every_generated_input_property_has_a_title_that_is_not_its_raw_name():
    raw = []
    for entry in load_entries():
        if entry.kind not in GENERATED_KINDS:
            continue
        for path, _name, sub in properties(schema_of(entry.input_schema)):
            if isinstance(sub, dict) and (not sub.get("title") or re.search(r"_|\b[a-z]+[A-Z]", sub["title"])):
                raw.append(f"{entry.name}{path}: {sub.get('title')!r}")
    assert raw == []


def test_a_long_attribute_list_folds_all_but_its_common_and_required_members():
    entries = {e.name: e for e in load_entries()}
    prospect = schema_of(entries["create_prospect"].input_schema)["properties"]["attributes"]
    assert set(prospect["properties"]) - set(prospect["advanced"]) == set(editor_fields.COMMON["prospect"])
    user = schema_of(entries["create_user"].input_schema)["properties"]["attributes"]
    assert "email" in user["required"] and "email" not in user["advanced"]
    assert "advanced" not in schema_of(entries["create_stage"].input_schema)["properties"]["attributes"]
