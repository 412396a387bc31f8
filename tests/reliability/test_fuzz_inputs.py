"""Property-based fuzzing of every registered operation's inputs (hypothesis): the seed's and the generated.

- Inputs an independent validator (python-jsonschema, not the connector's jsonschema-rs) calls invalid always
  give ``InputInvalid`` naming at least one field, and nothing is sent.
- Inputs it calls valid are accepted, and running them against the sandbox never crashes the connector:
  any failure is a typed ``ConnectorError`` (404, 422, an unsafe URL...), never a stray exception.

Strategies are built from each operation's own input schema. Runtime is bounded: a fixed number of
examples per operation, derandomized (the same examples every run), no deadline, no example database.
"""
from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import datetime, timezone

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from outreach_connector import Connector
from outreach_connector.errors import ConnectorError, InputInvalid
from outreach_connector.validation import schema_of
from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import SANDBOX_BASE_URL, SANDBOX_TOKEN, RecordingTransport

VALID_EXAMPLES = 10
INVALID_EXAMPLES = 10
SETTINGS = dict(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])

OPERATIONS = [spec.name for spec in (entry.spec for entry in Connector(access_token="unused").registry)]
# Rules handlers apply beyond their schemas: header names and values HTTP can carry, real base64 (raw HTTP);
# a DDL's page_after must be a next_page_after it handed out.
HANDLER_RULES = re.compile(r"headers\[\d+\]\.(key|value)|body\.binary|page_after")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


# --- the independent oracle -------------------------------------------------------------------------------

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_datetime(text: object) -> bool:
    if not isinstance(text, str):
        return True
    if not RFC3339.match(text):
        return False
    datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    return True


def oracle(schema: dict) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


# --- strategies from a schema ------------------------------------------------------------------------------

def merge(base: dict, extra: dict) -> dict:
    """``extra``'s constraints added to ``base`` (properties merged deeply, required united)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if key == "properties":
            props = out.setdefault("properties", {})
            for name, sub in value.items():
                props[name] = merge(props.get(name, {}), sub)
        elif key == "required":
            out["required"] = sorted(set(out.get("required", [])) | set(value))
        else:
            out[key] = copy.deepcopy(value)
    return out


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8))
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                               st.dictionaries(st.text(max_size=4), inner, max_size=2)),
                        max_leaves=4)


def strategy_for(schema: dict, name: str = "") -> st.SearchStrategy:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            base = {k: v for k, v in schema.items() if k != key}
            return st.one_of([strategy_for(merge(base, branch), name) for branch in schema[key]])
    if "allOf" in schema:
        return conditional_object(schema)
    types = schema.get("type")
    if types is None:
        types = ["object"] if "properties" in schema else ["array"] if "items" in schema else None
    if types is None:
        return ANY_JSON
    types = [types] if isinstance(types, str) else types
    return st.one_of([typed(t, schema, name) for t in types])


def typed(kind: str, schema: dict, name: str) -> st.SearchStrategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        wide = st.integers(low, high if high is not None else 10**18)
        return st.one_of(st.integers(max(low or 1, 1), min(high or 60, 60)), wide) if (low or 0) >= 0 else wide
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "string":
        return string(schema, name)
    if kind == "array":
        items = strategy_for(schema.get("items", {}), name)
        unique = {"unique_by": lambda v: json.dumps(v, sort_keys=True)} if schema.get("uniqueItems") else {}
        return st.lists(items, min_size=schema.get("minItems", 0),
                        max_size=max(schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)), **unique)
    return obj(schema)


def string(schema: dict, name: str) -> st.SearchStrategy:
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 24), 24)
    fmt = schema.get("format")
    if fmt == "date-time":
        moments = st.datetimes(datetime(2000, 1, 1), datetime(2035, 1, 1), timezones=st.just(timezone.utc))
        return moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")
    if fmt == "date":
        return st.dates().map(lambda d: d.isoformat())
    if fmt == "email":
        return st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.test", fullmatch=True)
    if name in ("link", "full_url"):  # mostly on the sandbox origin, with hostile tails; sometimes anywhere
        tails = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
        return st.one_of(tails.map(lambda t: SANDBOX_BASE_URL + t),
                         st.from_regex(schema["pattern"]).filter(lambda s: len(s) <= 200))
    text = st.text(min_size=low, max_size=max(low, high))
    pattern = schema.get("pattern")
    if pattern:
        anchored = pattern.endswith("$") and "(?" not in pattern
        text = st.from_regex(pattern, fullmatch=anchored) if "(?" not in pattern else \
            text.filter(lambda s: re.search(pattern, s))
        text = text.filter(lambda s: low <= len(s) <= schema.get("maxLength", 10**6))
    return text


def obj(schema: dict) -> st.SearchStrategy:
    props = schema.get("properties", {})
    required = [k for k in schema.get("required", []) if k in props]
    optional = sorted(k for k in props if k not in required)
    fixed = {k: strategy_for(props[k], k) for k in required}
    extra = schema.get("additionalProperties")
    extras = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in props),
                             strategy_for(extra), max_size=2) if isinstance(extra, dict) else st.just({})

    def build(chosen: list[str]) -> st.SearchStrategy:
        return st.fixed_dictionaries({**fixed, **{k: strategy_for(props[k], k) for k in chosen}})

    chosen = st.lists(st.sampled_from(optional), max_size=4, unique=True) if optional else st.just([])
    return st.tuples(chosen.flatmap(build), extras).map(lambda pair: {**pair[1], **pair[0]})


def conditional_object(schema: dict) -> st.SearchStrategy:
    """``allOf`` of ``if``/``then``: draw the values the conditions read, then the rest under what applies."""
    base = {k: v for k, v in schema.items() if k != "allOf"}
    conditions = schema["allOf"]
    keys = sorted({k for c in conditions for k in c.get("if", {}).get("properties", {})})

    def rest(values: dict) -> st.SearchStrategy:
        merged = copy.deepcopy(base)
        for condition in conditions:
            if "if" not in condition:
                merged = merge(merged, condition)
            elif jsonschema.Draft7Validator(condition["if"]).is_valid(values):
                merged = merge(merged, condition.get("then", {}))
            elif "else" in condition:
                merged = merge(merged, condition["else"])
        for key, value in values.items():
            merged["properties"][key] = {"const": value}
        merged["required"] = sorted(set(merged.get("required", [])) | set(values))
        return strategy_for(merged)

    return st.fixed_dictionaries({k: strategy_for(base["properties"][k], k) for k in keys}).flatmap(rest)


# --- invalid inputs: a valid one, broken ------------------------------------------------------------------

WRONG_VALUES = [None, True, -7, 0, 3.5, "", "x" * 300, [], [1, "a"], {}, {"zz": 1}]


def broken(schema: dict) -> st.SearchStrategy:
    valid = strategy_for(schema)
    props = schema.get("properties", {})

    def unknown_key(value):
        return {**value, "zz_unknown_field": 1}

    def drop_required(value):
        present = [k for k in schema.get("required", []) if k in value]
        return {k: v for k, v in value.items() if k != present[0]} if present else unknown_key(value)

    def wrong_type(pair):
        value, (key, wrong) = pair
        return {**value, key: wrong} if key in props else unknown_key(value)

    def nested_unknown(value):
        for key, sub in value.items():
            if isinstance(sub, dict) and props.get(key, {}).get("additionalProperties") is False:
                return {**value, key: {**sub, "zz_unknown_nested": 1}}
        return unknown_key(value)

    keys = st.sampled_from(sorted(props)) if props else st.just("zz")
    return st.one_of(
        st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.booleans()),
        valid.map(unknown_key), valid.map(drop_required), valid.map(nested_unknown),
        st.tuples(valid, st.tuples(keys, st.sampled_from(WRONG_VALUES))).map(wrong_type),
    )


# --- the properties ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tally():
    """Examples that ran (past ``assume``), by outcome; printed at the end (``-s`` without xdist shows it)."""
    counts: Counter = Counter()
    yield counts
    operations = {key.split(" ")[0] for key in counts}
    print(f"\nfuzzing: {sum(counts.values())} examples over {len(operations)} operation tests: "
          f"{dict(sorted(Counter(' '.join(k.split(' ')[1:]) for k in counts.elements()).items()))}")


@pytest.fixture(scope="module")
def sandboxed():
    sb = Sandbox(SandboxConfig(rate_limit=10**7))
    transport = RecordingTransport(sb.transport())
    conn = Connector(base_url=SANDBOX_BASE_URL, access_token=SANDBOX_TOKEN, transport=transport)
    conn.sender.sleep = lambda seconds: None  # no retries expected; never wait for real
    yield conn, transport
    conn.close()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_invalid_inputs_are_refused_before_anything_is_sent(operation, sandboxed, tally):
    conn, transport = sandboxed
    schema = schema_of(conn.registry[operation].spec.input_schema)
    check = oracle(schema)

    @settings(max_examples=INVALID_EXAMPLES, **SETTINGS)
    @given(broken(schema))
    def refused(data):
        assume(not check.is_valid(data))
        sent = len(transport.outcomes)
        with pytest.raises(InputInvalid) as caught:
            conn.call(operation, data)
        assert caught.value.errors and all(e["path"] and e["message"] for e in caught.value.errors)
        assert len(transport.outcomes) == sent
        tally[f"invalid:{operation} refused"] += 1

    refused()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_valid_inputs_never_crash_the_connector(operation, sandboxed, tally):
    conn, _ = sandboxed
    schema = schema_of(conn.registry[operation].spec.input_schema)
    check = oracle(schema)

    @settings(max_examples=VALID_EXAMPLES, **SETTINGS)
    @given(strategy_for(schema))
    def accepted(data):
        assume(check.is_valid(data))
        if isinstance(data, dict) and data.get("paginate"):
            data = {**data, "max_records": min(data.get("max_records", 100), 100)}
        try:
            output = conn.call(operation, data)
        except InputInvalid as error:  # unless a handler's own rule speaks, the two validators disagree: a bug
            assert all(HANDLER_RULES.fullmatch(e["path"]) for e in error.errors), f"valid input refused: {error}"
            tally[f"valid:{operation} InputInvalid(handler rule)"] += 1
            return
        except ConnectorError as error:
            status = getattr(error, "status_code", None)
            tally[f"valid:{operation} {type(error).__name__}{f'({status})' if status else ''}"] += 1
            return
        json.dumps(output)  # whatever came back is plain JSON
        tally[f"valid:{operation} ok"] += 1

    accepted()
