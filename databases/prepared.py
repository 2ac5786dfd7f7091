"""Hot reads as prepared statements: a queryset's SQL compiled once per process, planned once per connection.

The most-called reads (a tracking look-up, an API key's check) are a few index probes each, yet on the year of
traffic each statement cost more to build and to plan than to run: Django compiles the queryset's SQL at every
call, and PostgreSQL plans a statement on the monthly-partitioned events table over every partition, since a
look-up by reference has no time to prune them by (P5, docs/PERFORMANCE.md: 3.5 ms of SQL a look-up, 0.84 ms
prepared).

`PreparedQuery` takes a function that builds the queryset from its parameters. It builds it twice, with two
sets of stand-in values, and keeps the SQL when both compile to the same statement whose parameters differ only
where the stand-ins are (a queryset whose shape depends on the values, or that cannot match anything, is run
through the ORM as usual). The query's constants are written into the statement, so that its one plan knows
them (a partial index on `event_type = 'TRANSPORT'` is used only when the plan says TRANSPORT); the values are
its parameters. On each connection it is sent once as `PREPARE` and then run by `EXECUTE`; the session plans it
once for any values (`plan_cache_mode = force_generic_plan`, databases/sessions.py). The rows become model
instances as Django's own iterable makes them (deferred fields, select_related).

`shaped_rows` does the same for reads a request shapes (a DCSA poll's filters), with no stand-ins to build: the
statement is the queryset's SQL as compiled at each call, its constants written in and its other values its
parameters, prepared on a session the first time it meets that shape. A generic plan over the monthly partitions
holds about 0.26 MB of the server process's memory; a session keeps the DATABASE_SHAPES_PER_SESSION (64, about
17 MB a connection) it ran last.

Behind PgBouncer in transaction pooling, a session's `PREPARE` does not follow its client from one transaction
to the next: set DATABASE_PREPARED_STATEMENTS=0 there and every read runs through the ORM.
"""

import enum
import functools
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, router
from django.db.models import QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.db.models.sql.constants import MULTI
from psycopg2.extensions import AsIs

_names: set[str] = set()
_names_lock = threading.Lock()
# What each open connection's session holds (a closed connection's entry goes with it).
_sessions: "weakref.WeakKeyDictionary[Any, _Session]" = weakref.WeakKeyDictionary()
_UNDEFINED_STATEMENT = "26000"  # invalid_sql_statement_name: the session lost it (DISCARD ALL, a pooler)
# What a kept statement's rows can become (`_Rows`): instances, values_list's tuples, flat values; dicts and named
# tuples are read through the ORM.
_ROWS_MADE = (ModelIterable, ValuesListIterable, FlatValuesListIterable)


class _Compiled:
    """A queryset's statement for one database alias: its SQL, which parameter is which, and how rows become
    what the queryset gives: model instances, tuples (values_list) or single values (values_list(flat=True))."""

    def __init__(self, queryset: QuerySet, params: tuple, names: dict[int, str], alias: str):
        compiler = queryset.query.get_compiler(using=alias)
        sql, compiled_params = compiler.as_sql()
        assert tuple(compiled_params) == tuple(params)
        # The parameters as $1, $2, ... in the order of their names' first use; the query's constants written in
        # (a generic plan knows them: a partial index on event_type = 'TRANSPORT' is used only when it says so).
        self.order: list[str] = []
        for i in sorted(names):
            if names[i] not in self.order:
                self.order.append(names[i])
        arguments = [AsIs(f"${self.order.index(names[i]) + 1}") if i in names else value
                     for i, value in enumerate(params)]
        self.statement = connections[alias].ops.compose_sql(sql, arguments)
        self.rows = _Rows(compiler, queryset, alias)

    def parameters(self, values: dict[str, Any], stand_ins: dict[str, tuple]) -> list:
        """The statement's parameters for these values. They are sent as they are, not prepared by the fields as
        the ORM would: each must be of its stand-ins' type (a str for an integer column would fail in the
        database, where the ORM fails in Python)."""
        for name in self.order:
            if type(values[name]) is not type(stand_ins[name][0]):
                raise TypeError(f"{name} is a {type(stand_ins[name][0]).__name__}, not {values[name]!r}")
        return [values[name] for name in self.order]

    def results(self, rows: list[tuple]) -> list:
        return self.rows.results(rows)


class _Rows:
    """How a compiled queryset's rows become what it gives: model instances (made as `_plain_instance` does where
    the model allows, select_related rows included), tuples (values_list) or single values (flat)."""

    def __init__(self, compiler, queryset: QuerySet, alias: str):
        self.compiler = compiler
        self.converters = compiler.get_converters([column[0] for column in compiler.select])
        self.alias = alias
        self.flat = queryset._iterable_class is FlatValuesListIterable
        self.model = None  # rows, not instances
        if queryset._iterable_class is not ModelIterable:
            return
        klass_info = compiler.klass_info
        select = compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model = klass_info["model"]
        self.fields = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.populators = [_Related(related, alias) for related in get_related_populators(klass_info, select, alias)]
        self.annotations = list(compiler.annotation_col_map.items())  # set on each instance, as ModelIterable does
        self.plain = _is_plain(self.model, self.init_list)

    def results(self, rows: list[tuple]) -> list:
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        if self.model is None:
            return [row[0] for row in rows] if self.flat else rows
        objects = []
        make = self._plain if self.plain else self._from_db
        for row in rows:
            obj = make(row[self.fields])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def _from_db(self, values):
        return self.model.from_db(self.alias, self.init_list, values)

    def _plain(self, values):
        return _plain_instance(self.model, self.alias, self.init_list, values)


def instances(queryset: QuerySet) -> list:
    """The queryset's model instances as iterating it gives them (select_related rows, annotations, locks), each
    made as `_plain_instance` does where the model allows. For reads of many rows with several related rows each
    (a run's locked containers come with seven), where Django's `Model.__init__`, field by field for every
    instance, costs more than the statement."""
    if (queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups
            or queryset._known_related_objects or queryset._result_cache is not None):
        return list(queryset)  # prefetches, a related manager's parent set on each row, rows read already
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunks = compiler.execute_sql(MULTI)  # no chunks (nothing read) when the queryset cannot match
    return _Rows(compiler, queryset, queryset.db).results([row for chunk in chunks for row in chunk])


def _is_plain(model, init_list: list[str]) -> bool:
    """Whether `_plain_instance` may make the model's instances: its columns read are plain attributes, and
    nothing listens to the creation of its instances (pre_init, post_init receivers are connected as the apps
    load, before the first statement is compiled)."""
    return not (pre_init.has_listeners(model) or post_init.has_listeners(model)) and all(
        type(getattr(model, name, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute) for name in init_list)


def _plain_instance(model, alias: str, init_list: list[str], values):
    """What `from_db` makes, without going through `__init__` field by field."""
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, alias
    obj.__dict__.update(zip(init_list, values, strict=True))
    return obj


class _Related:
    """Django's RelatedPopulator (a select_related row's related instance, set both ways), making its instances as
    `_plain_instance` does when the model allows: a look-up's container comes with seven related rows."""

    def __init__(self, populator, alias: str):
        self.populator = populator
        self.alias = alias
        self.plain = _is_plain(populator.model_cls, populator.init_list)
        self.related = [_Related(related, alias) for related in populator.related_populators]

    def populate(self, row, from_obj) -> None:
        populator = self.populator
        values = (populator.reorder_for_init(row) if populator.reorder_for_init
                  else row[populator.cols_start:populator.cols_end])
        obj = None
        if values[populator.pk_idx] is not None:
            obj = (_plain_instance(populator.model_cls, self.alias, populator.init_list, values) if self.plain
                   else populator.model_cls.from_db(populator.db, populator.init_list, values))
            for related in self.related:
                related.populate(row, obj)
        populator.local_setter(from_obj, obj)
        if obj is not None:
            populator.remote_setter(obj, from_obj)


class PreparedQuery:
    """`build(**values)` -> a queryset whose SQL keeps its shape whatever the values; `stand_ins` gives two
    different values of each parameter's type, neither equal to a constant of the query (they are only compiled,
    never run). A parameter the SQL does not use (a scope that needs no organisation) is left out of it."""

    def __init__(self, name: str, build: Callable[..., QuerySet], **stand_ins: tuple[Any, Any]):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"A prepared statement's name is an SQL identifier: {name!r}")
        with _names_lock:
            # A session knows a statement by its name alone: a second query of the same name would run the first's.
            if name in _names:
                raise ValueError(f"A prepared statement named {name!r} exists already")
            _names.add(name)
        self.name = name
        self.build = build
        self.stand_ins = stand_ins
        self._compiled: dict[str, _Compiled | None] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled | None:
        """The statement for the alias, or None when the queryset cannot be kept (its SQL changes with the
        values, or it matches nothing)."""
        first = {name: pair[0] for name, pair in self.stand_ins.items()}
        second = {name: pair[1] for name, pair in self.stand_ins.items()}
        queryset = self.build(**first)
        if queryset._iterable_class not in _ROWS_MADE:
            return None  # dicts or named tuples: run through the ORM
        try:
            sql, params = queryset.query.sql_with_params()
            other_sql, other_params = self.build(**second).query.sql_with_params()
        except EmptyResultSet:
            return None
        if sql != other_sql or len(params) != len(other_params):
            return None
        names = {}
        for i, (value, other) in enumerate(zip(params, other_params, strict=True)):
            name = next((n for n, stand_in in first.items() if value == stand_in and other == second[n]), None)
            if name is not None:
                names[i] = name
            elif value != other:
                return None
        return _Compiled(queryset, tuple(params), names, alias)

    def compiled(self, alias: str) -> _Compiled | None:
        if alias not in self._compiled:
            with self._lock:
                if alias not in self._compiled:
                    self._compiled[alias] = self._compile(alias)
        return self._compiled[alias]

    @functools.cached_property
    def model(self):
        return self.build(**{name: pair[0] for name, pair in self.stand_ins.items()}).model

    def all(self, **values) -> list:
        """What the queryset gives for these values (instances, or values_list's rows), read where the router
        sends the model's reads."""
        alias = router.db_for_read(self.model)
        compiled = None
        if settings.DATABASE_PREPARED_STATEMENTS:
            compiled = self.compiled(alias)
        if compiled is None:
            return list(self.build(**values).using(alias))
        return compiled.results(_execute(alias, self.name, compiled.statement,
                                         compiled.parameters(values, self.stand_ins)))

    def first(self, **values):
        found = self.all(**values)
        return found[0] if found else None


def _constant(value) -> bool:
    """Whether a value of a query is one of its constants, written into a shaped statement: a choice's member (the
    ORM passes `EventType.TRANSPORT` on as the enum, a value from a request is a plain str), a boolean, the empty
    string. Anything else is a parameter."""
    return type(value) is bool or isinstance(value, enum.Enum) or (type(value) is str and value == "")


def shaped_rows(queryset: QuerySet) -> list:
    """What iterating the queryset gives (instances, made as `instances` makes them; values_list's rows or values),
    read by a statement prepared on the session for the shape of its SQL.

    For reads whose SQL a request shapes (a DCSA poll's: which filters it gives, with how many values), so that
    no one PreparedQuery fits them, and whose shapes repeat: a poll of the monthly-partitioned events spent more
    planning than running (P8, docs/PERFORMANCE.md). The queryset is compiled as the ORM compiles it, at each call;
    its constants (`_constant`) are written into the statement, so that the generic plan knows them, and its other
    values are the statement's parameters. The same SQL is the same statement: prepared on a session at its first
    run, and run again by EXECUTE. A session keeps DATABASE_SHAPES_PER_SESSION of them. Run through the ORM as
    usual: with DATABASE_PREPARED_STATEMENTS off, and for a queryset that prefetches, locks rows or gives dicts.

    A value a generic plan cannot type (a bare Value in the SELECT list) makes PREPARE fail: give such a value an
    output field the SQL names, or do not shape the query."""
    return _read_by_shape(queryset) if _shapeable(queryset) else list(queryset)


def _read_by_shape(queryset: QuerySet) -> list:
    """`shaped_rows` of a queryset `_shapeable` allows."""
    alias = queryset.db
    compiler = queryset.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    kept, arguments = [], []
    for value in params:
        if _constant(value):
            arguments.append(value)
        else:
            kept.append(value)
            arguments.append(AsIs(f"${len(kept)}"))
    connection = connections[alias]
    connection.ensure_connection()
    statement = connection.ops.compose_sql(sql, arguments)
    name = "shape_" + hashlib.blake2b(statement.encode(), digest_size=12).hexdigest()
    return _Rows(compiler, queryset, alias).results(_execute(alias, name, statement, kept, shaped=True))


def _shapeable(queryset: QuerySet) -> bool:
    """Whether `shaped_rows` reads the queryset by a shaped statement (else through the ORM)."""
    return bool(settings.DATABASE_PREPARED_STATEMENTS and queryset._result_cache is None
                and queryset._iterable_class in _ROWS_MADE
                and not (queryset._prefetch_related_lookups or queryset._known_related_objects
                         or queryset.query.select_for_update))


class ShapedQuerySet(QuerySet):
    """A queryset whose rows are read as `shaped_rows` reads them, for code that evaluates the queryset itself (DRF's
    cursor pagination slices and lists it). A slice that starts past the first row is read through the ORM: its
    offset is written into the SQL, and each offset would be a shape of its own."""

    def _fetch_all(self):
        if self._result_cache is None and not self.query.low_mark and _shapeable(self):
            self._result_cache = _read_by_shape(self)
        super()._fetch_all()


def shaped(queryset: QuerySet) -> QuerySet:
    """The queryset, read by shaped statements when it is evaluated (ShapedQuerySet). A plain QuerySet's: a model
    manager's own QuerySet class would lose its methods."""
    if type(queryset) not in (QuerySet, ShapedQuerySet):
        raise TypeError(f"shaped() takes a QuerySet, not a {type(queryset).__name__}")
    clone = queryset._chain()
    clone.__class__ = ShapedQuerySet
    return clone


class _Session:
    """What one connection's session holds: the statements prepared on it, and those it may hold (a run that
    failed after its PREPARE did: a PREPARE is not undone by the failure of its transaction); of the shaped
    statements among them, the order of their last runs."""

    def __init__(self):
        self.held: set[str] = set()
        self.uncertain: set[str] = set()
        self.shapes: OrderedDict[str, None] = OrderedDict()

    def make_room(self, connection, cursor) -> None:
        """Deallocate the shaped statements run least recently, leaving room for one more."""
        while len(self.shapes) >= max(settings.DATABASE_SHAPES_PER_SESSION, 1):
            name, _ = self.shapes.popitem(last=False)
            self.held.discard(name)
            try:
                cursor.execute(f"DEALLOCATE {name}")
            except DatabaseError as exc:
                if getattr(exc.__cause__, "pgcode", None) != _UNDEFINED_STATEMENT or connection.in_atomic_block:
                    raise  # gone already (DISCARD ALL) is what the deallocation wanted, outside a transaction

    def ran(self, name: str) -> None:
        self.shapes[name] = None
        self.shapes.move_to_end(name)


def _execute(alias: str, name: str, statement: str, params: list, *, shaped: bool = False) -> list[tuple]:
    connection = connections[alias]
    with connection.cursor() as cursor:  # connects (and checks the connection) as any query does
        session = _sessions.get(connection.connection)
        if session is None:
            session = _sessions[connection.connection] = _Session()
        execute = f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
        if name in session.uncertain:
            session.uncertain.discard(name)
            if _session_has(cursor, name):
                session.held.add(name)
        if shaped:
            if name in session.held:
                session.ran(name)
            else:
                session.make_room(connection, cursor)
        if name in session.held:
            try:
                cursor.execute(execute, params)
                return cursor.fetchall()
            except DatabaseError as exc:
                if getattr(exc.__cause__, "pgcode", None) != _UNDEFINED_STATEMENT or connection.in_atomic_block:
                    raise
                session.held.discard(name)  # the session lost it (DISCARD ALL): prepare it again, below
        try:
            # One round trip: the statement and its first run.
            cursor.execute(f"PREPARE {name} AS {statement.replace('%', '%%')}; {execute}", params)
        except DatabaseError:
            session.uncertain.add(name)
            raise
        session.held.add(name)
        if shaped:
            session.ran(name)
        return cursor.fetchall()


def _session_has(cursor, name: str) -> bool:
    try:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
        return cursor.fetchone() is not None
    except DatabaseError:
        return False
