"""Hot-path statements run on the DBAPI cursor, compiled once (speed).

`Connection.execute` costs 20-90 µs per statement in SQLAlchemy's own work (cache lookup,
parameter processing, building a result object); the driver's execute of the same SQL costs
2-17 µs. Sending a chat message runs a handful of statements, so on the send path that
overhead was the larger part of the cost. `Prepared` compiles a Core statement once for a
dialect — expanding IN lists of values bound at build time — and keeps the type conversions
SQLAlchemy would apply (the bind processors of `UTCDateTime`, JSON ...; the result processors
of the selected or returned columns), then runs it on the DBAPI connection under the
session's connection, so inside the session's transaction.

Only for plain Core statements (no ORM entities, no execution events). A statement that
other code also runs through SQLAlchemy gives the same rows either way; tests of the send
path run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")


class Prepared:
    def __init__(self, statement: ClauseElement, dialect: Dialect,
                 column_keys: Sequence[str] | None = None) -> None:
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None
        )
        assert isinstance(compiled, SQLCompiler)
        # Parameters without a value are the ones each execution gives.
        required = {bp.key: None for bp in compiled.binds.values() if bp.required}
        state = compiled.construct_expanded_state(required)
        # The statement's own processors, and those of IN lists expanded above.
        processors = {**compiled._bind_processors, **state.processors}
        self._binds: dict[str, Callable[[Any], Any]] = {}
        for key, process in processors.items():
            if process is None or key not in state.parameters:
                continue
            if not callable(process):  # a tuple-typed parameter: one processor per element
                raise TypeError(f"parameter {key!r}: tuple types are not supported here")
            self._binds[key] = process
        self.sql = state.statement
        self._names: tuple[str, ...] | None = (
            tuple(state.positiontup) if compiled.positional and state.positiontup else None
        )
        # Values bound at build time, converted once; the others each execution gives.
        self._defaults = {
            k: self._binds[k](v) if k in self._binds else v
            for k, v in state.parameters.items() if k not in required
        }
        results = [column.type._cached_result_processor(dialect, None)
                   for column in compiled._result_columns or ()]
        # Only the columns that need converting are touched per row (most need none).
        self._results = tuple((i, p) for i, p in enumerate(results) if p is not None)
        # A C-level picker of the positional parameters in order (a tuple even for one).
        self._pick: Callable[[Mapping[str, Any]], Any] | None = None
        if self._names:
            picker = itemgetter(*self._names)
            self._pick = picker if len(self._names) > 1 else (lambda m: (picker(m),))

    def _parameters(self, values: Mapping[str, Any]) -> Any:
        merged = dict(self._defaults)
        binds = self._binds
        for key, value in values.items():
            process = binds.get(key)
            merged[key] = value if process is None else process(value)
        return merged if self._pick is None else self._pick(merged)

    def _row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self._results:
            return tuple(raw)
        row = list(raw)
        for i, process in self._results:
            row[i] = process(row[i])
        return tuple(row)

    def _execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        parameters = self._parameters(values)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, parameters)
        except connection.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            # SQLAlchemy's own handling: the same wrapped exception types (IntegrityError ...)
            # and, for a dropped connection, the pool invalidated as after `execute`.
            connection._handle_dbapi_exception(exc, self.sql, parameters, cursor, None)
            raise  # not reached: the handler raises
        return cursor

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self._execute(connection, values)
        try:
            return [self._row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        cursor = self._execute(connection, values)
        try:
            raw = cursor.fetchone()
            return None if raw is None else self._row(raw)
        finally:
            cursor.close()

    def run(self, connection: Connection, values: Mapping[str, Any]) -> None:
        self._execute(connection, values).close()


def connection_of(session: Session) -> Connection:
    """The session's connection, its pending ORM changes flushed (raw statements do not
    autoflush)."""
    session.flush()
    return session.connection()


class PreparedCache:
    """Prepared statements by key, one set per dialect (a process may hold two engines)."""

    def __init__(self, build: Callable[..., ClauseElement], max_entries: int = 10_000) -> None:
        self._build = build
        self._max = max_entries
        self._entries: dict[tuple[str, str, Any], Prepared] = {}

    def get(self, dialect: Dialect, key: Any, *args: Any) -> Prepared:
        """The statement `build(*args)`, prepared for `dialect`; `key` identifies `args`."""
        full = (dialect.name, dialect.driver, key)
        prepared = self._entries.get(full)
        if prepared is None:
            if len(self._entries) >= self._max:
                self._entries.clear()
            prepared = self._entries[full] = Prepared(self._build(*args), dialect)
        return prepared


class Statement:
    """One fixed statement, prepared for each dialect it runs on."""

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None
                 ) -> None:
        self.statement = statement
        self._column_keys = column_keys
        self._by_dialect: dict[tuple[str, str], Prepared] = {}

    def on(self, connection: Connection) -> Prepared:
        dialect = connection.dialect
        key = (dialect.name, dialect.driver)
        prepared = self._by_dialect.get(key)
        if prepared is None:
            prepared = self._by_dialect[key] = Prepared(self.statement, dialect,
                                                        self._column_keys)
        return prepared

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return self.on(connection).all(connection, values)

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        return self.on(connection).first(connection, values)


def load_into(session: Session, cls: type[T], values: Mapping[str, Any]) -> T:
    """The instance of a mapped class for a row of `values`, in `session` as if a query had
    loaded it: what the ORM's own loader does for a new row (identity key, identity map; no
    constructor, attribute or attach events), at a fifth of the cost of building it and
    `Session.add`. An instance the session already holds is returned as it is, as a query
    would. Columns missing from `values` are expired (loaded when first read). The identity
    map holds instances weakly: keep a reference while you need it in the session."""
    manager, pk, columns = _mapping(cls)
    key = (cls, tuple([values[k] for k in pk]), None)
    held = session.identity_map.get(key)
    if held is not None:
        return cast(T, held)
    obj: T = manager.new_instance()
    state = instance_state(obj)
    state.dict.update(values)
    state.key = key
    missing = columns.difference(values)
    if missing:
        state._expire_attributes(state.dict, missing)
    session._autobegin_t()
    state.session_id = session.hash_key
    session.identity_map._add_unpresent(state, key)
    return obj


def held_or_get(session: Session, cls: type[T], ident: Any) -> T | None:
    """`session.get` by a single-column primary key, answered from the identity map without
    `get`'s own machinery when the session holds the instance (as the send path's batches
    do for their shops and regions, see `load_into`)."""
    held = session.identity_map.get((cls, (ident,), None))
    if held is not None:
        return cast(T, held)
    return session.get(cls, ident)


def _mapping(cls: type[Any]) -> tuple[Any, tuple[str, ...], frozenset[str]]:
    """The class's instrumentation manager, primary-key attributes and column attributes."""
    found = _MAPPINGS.get(cls)
    if found is None:
        mapper = inspect(cls)
        keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        found = _MAPPINGS[cls] = (
            manager_of_class(cls), keys, frozenset(a.key for a in mapper.column_attrs)
        )
    return found


_MAPPINGS: dict[type[Any], tuple[Any, tuple[str, ...], frozenset[str]]] = {}
