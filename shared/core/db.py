"""Engines and sessions. Callers own transactions: `with session_factory.begin() as session:`."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]
READ_ONLY = "cpb_read_only"  # an execution option: this connection only reads
DEADLOCK_DETECTED: Final = "40P01"  # PostgreSQL's SQLSTATE for a transaction it aborted
# PostgreSQL's SQLSTATEs for a wait that a timeout below cut short.
TIMED_OUT: Final = {"55P03": "a lock wait", "57014": "a statement"}
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """How long one kind of work may run a statement, wait for a lock, and sit idle in an open
    transaction, on PostgreSQL (docs/reliability.md, "Timeouts")."""

    statement: str
    lock: str
    idle_in_transaction: str
    read: str  # a statement of a read_session


# By the role a process's engine is made for. An API request is short: a statement over a
# minute is a runaway, and a lock held longer than half a minute (a chunk of a batch holds its
# rows a second or two) is a stuck holder; a read that streams (an export, a report) may run
# longer (read_session). A worker's statement is bounded by its task's time limit (30 minutes),
# and it may wait minutes for a lock behind an edit or a cancel. The command line imports,
# exports and migrates whole districts.
LIMITS: Final = {
    "cpb-web": Limits(statement="60s", lock="30s", idle_in_transaction="15min", read="15min"),
    "cpb-worker": Limits(statement="30min", lock="5min", idle_in_transaction="15min", read="30min"),
    "cpb": Limits(statement="2h", lock="10min", idle_in_transaction="15min", read="2h"),
    # Beat records its heartbeat: a stuck write must not hold up the sweeps it sends.
    "cpb-beat": Limits(statement="10s", lock="5s", idle_in_transaction="1min", read="10s"),
}
# TCP keepalives on both ends, and a check of the client during long statements: a worker host
# that vanishes (power cut, partition) has its transactions rolled back and its locks freed
# after about a minute, and the client notices a server that vanished as fast.
KEEPALIVES: Final = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
SERVER_KEEPALIVES: Final = {
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
    "client_connection_check_interval": "10s",
}


def make_engine(url: str, role: str = "cpb", **kwargs: Any) -> Engine:
    """An engine for `url`. On PostgreSQL each connection names itself `<role> <pid>` (the
    application_name in pg_stat_activity), so that whoever holds a lock can be told apart, and
    carries the keepalives and the time limits of its role (LIMITS)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if engine.dialect.name == "postgresql":
        limits = LIMITS.get(role, LIMITS["cpb"])
        server = SERVER_KEEPALIVES | {
            "statement_timeout": limits.statement,
            "lock_timeout": limits.lock,
            "idle_in_transaction_session_timeout": limits.idle_in_transaction,
        }
        options = " ".join(f"-c {name}={value}" for name, value in server.items())

        @event.listens_for(engine, "do_connect")
        def _name_connection(_dialect: Any, _record: Any, _args: Any, params: Any) -> None:
            # At connect time: the process that connects, even if the engine came from a fork.
            params["application_name"] = f"{role} {os.getpid()}"
            params.update({name: params.get(name, value) for name, value in KEEPALIVES.items()})
            params["options"] = f"{params.get('options', '')} {options}".strip()

        @event.listens_for(engine, "begin")
        def _longer_reads(connection: Any) -> None:
            if limits.read != limits.statement and connection.get_execution_options().get(
                READ_ONLY, False
            ):
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{limits.read}'")

    return engine


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def in_transaction(factory: SessionFactory, work: Callable[[Session], T], attempts: int = 3) -> T:
    """`work(session)` in a transaction of its own, committed. When PostgreSQL breaks a deadlock
    by aborting this transaction (an edit of a person's rows against a batch chunk updating the
    same rows in another order), the other side goes on; `work` runs again, up to `attempts`
    times in all, instead of losing the change."""
    for _ in range(attempts - 1):
        try:
            with factory.begin() as session:
                return work(session)
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
    with factory.begin() as session:  # the last attempt: whatever it raises goes to the caller
        return work(session)


def timed_out(error: BaseException | None) -> str | None:
    """What PostgreSQL cut short when `error` is one of the timeouts of LIMITS, else None."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return TIMED_OUT.get(sqlstate) if isinstance(error, OperationalError) and sqlstate else None


def read_session(factory: SessionFactory) -> Session:
    """A session for reading only. On PostgreSQL a statement may run its role's `read` limit (a
    streamed export, a report over a whole district). On SQLite its transaction begins
    deferred, so a long read (a streamed export) does not hold the write lock that the worker
    needs; WAL gives it a snapshot meanwhile."""
    engine: Engine = factory.kw["bind"]
    return factory(bind=engine.execution_options(**{READ_ONLY: True}))


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite for the embedded default: WAL, a busy timeout, and BEGIN IMMEDIATE so that
    writers queue up instead of failing with "database is locked" halfway through (a read-only
    session, `read_session`, begins deferred instead)."""
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def code_point_order(session: Session, column: ColumnElement[str]) -> ColumnElement[str]:
    """`column` to sort by code point on both databases, whatever the server's collation."""
    return column.collate("BINARY" if is_sqlite(session) else "C")


def rowcount(session: Session, statement: Any) -> int:
    """Run an INSERT ... SELECT, an UPDATE or a DELETE; how many rows it wrote."""
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return cast(CursorResult[Any], result).rowcount
