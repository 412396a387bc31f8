"""The sandbox's state: one table of records per resource type, plus the log of applied writes.

A table is its seed (``base_count`` records made on demand by a factory from their id) plus an overlay of
records changed, created or deleted since. Seed records are therefore never held in memory until a write
touches them, which keeps a 50,000-prospect org cheap to build and to reset.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

Ref = tuple[str, int]  # (type, id) of a related record


@dataclass(slots=True)
class Record:
    """One resource: its id, attributes (absent means null) and relationships (Ref, None or list of Ref)."""

    id: int
    attributes: dict[str, Any]
    relationships: dict[str, Any]

    def copy(self) -> Record:
        rels = {k: list(v) if isinstance(v, list) else v for k, v in self.relationships.items()}
        return Record(self.id, dict(self.attributes), rels)

    def ref_id(self, name: str) -> int | None:
        ref = self.relationships.get(name)
        return ref[1] if isinstance(ref, tuple) else None

    def required_ref_id(self, name: str) -> int:
        """The id of a to-one relationship validation made required (a missing one is a sandbox bug)."""
        ident = self.ref_id(name)
        if ident is None:
            raise LookupError(f"{name} is required here, and validation should have refused its absence")
        return ident


@dataclass(frozen=True, slots=True)
class WriteLogEntry:
    """One write the sandbox applied (tests use the log to prove a create was not applied twice)."""

    method: str
    path: str
    type: str
    id: int


KeyFunction = Callable[[Record], Iterable[Hashable]]


class ValueIndex:
    """ids by key (e.g. prospects by e-mail), built on first use and then kept up to date on every write."""

    def __init__(self, key_function: KeyFunction):
        self._keys = key_function
        self._ids: dict[Hashable, set[int]] | None = None

    def lookup(self, table: Table, key: Hashable) -> list[int]:
        if self._ids is None:
            self._ids = {}
            for record in table.records():
                self._add(self._ids, record)
        return sorted(self._ids.get(key, ()))

    def update(self, old: Record | None, new: Record | None) -> None:
        if self._ids is None:
            return
        if old is not None:
            for key in self._keys(old):
                self._ids.get(key, set()).discard(old.id)
        if new is not None:
            self._add(self._ids, new)

    def _add(self, ids: dict[Hashable, set[int]], record: Record) -> None:
        for key in self._keys(record):
            ids.setdefault(key, set()).add(record.id)


class Table:
    """All records of one type: seed records made on demand, plus changes."""

    def __init__(self, type_name: str, base_count: int = 0, factory: Callable[[int], Record] | None = None):
        self.type_name = type_name
        self._base_count = base_count if factory else 0
        self._factory = factory or _no_seed
        self._changed: dict[int, Record] = {}
        self._created: dict[int, Record] = {}  # ids above the seed, in ascending (insertion) order
        self._deleted: set[int] = set()
        self._next_id = self._base_count + 1
        self._indexes: dict[str, ValueIndex] = {}
        self.version = 0

    def __len__(self) -> int:
        return self._base_count - len(self._deleted) + len(self._created)

    def get(self, ident: int) -> Record | None:
        if ident > self._base_count:
            return self._created.get(ident)
        if ident < 1 or ident in self._deleted:
            return None
        changed = self._changed.get(ident)
        return changed if changed is not None else self._factory(ident)

    def ids(self) -> list[int]:
        """Every live id, ascending."""
        base = range(1, self._base_count + 1)
        live = [i for i in base if i not in self._deleted] if self._deleted else list(base)
        return live + list(self._created)

    def records(self) -> Iterator[Record]:
        for ident in self.ids():
            record = self.get(ident)
            if record is not None:  # always: ids() lists live records only
                yield record

    def records_of(self, ids: Iterable[int]) -> list[Record]:
        """The live records among ``ids``, in their order."""
        return [record for record in map(self.get, ids) if record is not None]

    def insert(self, record: Record) -> Record:
        record.id = self._next_id
        self._next_id += 1
        self._created[record.id] = record
        self._changed_from(None, record)
        return record

    def put(self, record: Record) -> None:
        old = self.get(record.id)
        if record.id > self._base_count:
            self._created[record.id] = record
        else:
            self._changed[record.id] = record
        self._changed_from(old, record)

    def delete(self, ident: int) -> bool:
        old = self.get(ident)
        if old is None:
            return False
        if ident > self._base_count:
            del self._created[ident]
        else:
            self._changed.pop(ident, None)
            self._deleted.add(ident)
        self._changed_from(old, None)
        return True

    def index(self, name: str, key_function: KeyFunction) -> ValueIndex:
        """The named index over this table, registered on first request."""
        if name not in self._indexes:
            self._indexes[name] = ValueIndex(key_function)
        return self._indexes[name]

    def _changed_from(self, old: Record | None, new: Record | None) -> None:
        self.version += 1
        for index in self._indexes.values():
            index.update(old, new)


def _no_seed(ident: int) -> Record:
    raise LookupError(f"a table without a seed has no seed record {ident}")


def relationship_keys(name: str, owner_type: str) -> KeyFunction:
    """Index key function: the id a to-one relationship points at, when it points at ``owner_type``."""
    def keys(record: Record) -> list[int]:
        ref = record.relationships.get(name)
        return [ref[1]] if isinstance(ref, tuple) and ref[0] == owner_type else []
    return keys


class Store:
    """The tables of every type, the write log, and a small cache of computed query orders."""

    QUERY_CACHE_SIZE = 16

    def __init__(self, build_tables: Callable[[], dict[str, Table]]):
        self._build_tables = build_tables
        self.tables = build_tables()
        self.write_log: list[WriteLogEntry] = []
        self._query_cache: OrderedDict[Hashable, Any] = OrderedDict()

    def reset(self) -> None:
        """Back to the seed: every change and the write log are dropped."""
        self.tables = self._build_tables()
        self.write_log.clear()
        self._query_cache.clear()

    def table(self, type_name: str) -> Table:
        return self.tables[type_name]

    def get(self, type_name: str, ident: int) -> Record | None:
        table = self.tables.get(type_name)
        return table.get(ident) if table is not None else None

    def require(self, type_name: str, ident: int) -> Record:
        """A record the caller knows exists (an id from an index, a relationship validation checked)."""
        record = self.get(type_name, ident)
        if record is None:
            raise LookupError(f"no {type_name} {ident}, though the store's own references name it")
        return record

    def records(self, type_name: str) -> list[Record]:
        return list(self.tables[type_name].records())

    def count(self, type_name: str) -> int:
        return len(self.tables[type_name])

    def log_write(self, method: str, path: str, type_name: str, ident: int) -> None:
        self.write_log.append(WriteLogEntry(method, path, type_name, ident))

    def related_ids(self, child_type: str, relationship: str, owner_type: str, owner_id: int) -> list[int]:
        """ids of ``child_type`` records whose to-one ``relationship`` points at the owner record."""
        name = f"rel:{relationship}:{owner_type}"
        index = self.tables[child_type].index(name, relationship_keys(relationship, owner_type))
        return index.lookup(self.tables[child_type], owner_id)

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Memoise an expensive query result; callers put table versions in the key so writes invalidate."""
        if key in self._query_cache:
            self._query_cache.move_to_end(key)
            return self._query_cache[key]
        value = compute()
        self._query_cache[key] = value
        if len(self._query_cache) > self.QUERY_CACHE_SIZE:
            self._query_cache.popitem(last=False)
        return value
