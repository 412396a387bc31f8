"""Regenerate the editor's screenshots in docs/ from the browser tests that reach each main state.

Runs the tests below in Chromium with EDITOR_SCREENSHOTS=docs, so each saves the page once its assertions
hold: docs/editor.png (a prospect enrolled), editor-dropdown.png (a combobox open, an option active),
editor-errors.png (create_task's required fields refused locally), editor-table.png (a list output as a
table), editor-long-form.png (create_prospect, common fields first), editor-reconnect.png (an authentication
offering Reconnect), editor-triggers.png (the Triggers view: a webhook subscription and an event arrived, its
JSON open), editor-triggers-error.png (a refused subscription, each reason by its field). docs/editor-before.png
is the page before issue 21, kept by hand.

Usage: ./run python tools/screenshots.py
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATES = [
    "tests/editor/test_editor_in_chromium.py::test_enrol_a_prospect_in_a_sequence_with_searched_dropdowns",
    "tests/editor/test_editor_usable.py::test_the_lookup_is_a_combobox_that_says_what_is_open_and_active",
    "tests/editor/test_editor_usable.py::test_create_task_marks_what_outreach_requires_and_refuses_locally",
    "tests/editor/test_editor_usable.py::test_a_list_output_is_a_table_and_changing_operation_clears_it",
    "tests/editor/test_editor_usable.py::test_a_long_form_shows_common_fields_first_and_folds_the_rest_behind_a_filter",
    "tests/editor/test_editor_connect.py::test_reconnect_on_a_marked_authentication_keeps_its_id_and_calls_work_again",
    "tests/editor/test_editor_triggers.py::test_subscribe_by_webhook_then_a_prospect_created_in_outreach_shows_as_an_event",
    "tests/editor/test_editor_triggers.py::test_the_audit_finds_nothing_serious_in_the_triggers_views_states",
]


def main() -> int:
    env = {**os.environ, "EDITOR_SCREENSHOTS": str(ROOT / "docs"), "CI": "true"}  # CI: fail, never skip
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:randomly", *STATES],
                           cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
