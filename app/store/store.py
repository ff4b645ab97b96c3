"""The workspace store: one SQLite file, opened safely, written only inside audited transactions.

SQLite settings, each on purpose:

- ``journal_mode=WAL`` — readers (the TUI, a `crosswalk verify` in another terminal) never
  block the writer and see a consistent snapshot.
- ``foreign_keys=ON`` — SQLite leaves them off by default.
- ``busy_timeout`` — a second writer waits this long for the lock (default 5 s, env
  ``CROSSWALK_BUSY_TIMEOUT``) before the user is told the workspace is locked.
- ``synchronous=FULL`` — every committed transaction, and so every audit event the user saw
  confirmed, is on disk before the commit returns; with NORMAL, WAL mode can lose the last
  commits on power loss. Measured cost in ``bench/README.md``; it is well inside the target.
- Write transactions start with ``BEGIN IMMEDIATE``: the write lock is taken before the audit
  head is read, so two processes can never append events with the same ``prev_hash``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.domain.chain import GENESIS, EventFields, canonical_json, event_hash, state_digest
from app.domain.clock import Clock, iso_utc, system_clock
from app.errors import CrosswalkError, WorkspaceError, WorkspaceLocked
from app.store import files
from app.store.models import AUDITED
from app.store.schema import APPLICATION_ID, SCHEMA_VERSION, steps

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

DEFAULT_BUSY_TIMEOUT = 5.0
SYNCHRONOUS = "FULL"
Mode = Literal["rw", "ro", "auto"]

_INSERT_EVENT = (
    "INSERT INTO audit_event (seq, at, actor, action, entity, entity_id, change, "
    "state_digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Tx:
    """A write transaction: an SQLModel session plus the audit events it will append.

    Services change rows through :attr:`session`, then call :meth:`record` once per entity
    they changed; the events are appended to the chain just before the commit.
    """

    def __init__(self, store: Store, session: Session) -> None:
        self.store = store
        self.session = session
        self._events: list[tuple[Any, ...]] = []
        self._head: tuple[int, str] | None = None
        self._now: str | None = None

    @property
    def now(self) -> str:
        """The transaction's moment: one clock reading, shared by its rows and events."""
        if self._now is None:
            self._now = iso_utc(self.store.clock())
        return self._now

    def _raw(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return self.session.connection().exec_driver_sql(sql, params)

    def _chain_head(self) -> tuple[int, str]:
        if self._head is None:
            row = self._raw("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").first()
            self._head = (row[0], row[1]) if row else (0, GENESIS)
        return self._head

    def _append(self, action: str, entity: str, entity_id: str, change: dict[str, Any],
                digest: str | None) -> None:
        seq, prev = self._chain_head()
        fields = EventFields(seq + 1, self.now, self.store.actor, action, entity, entity_id,
                             canonical_json(change), digest)
        h = event_hash(prev, fields)
        self._events.append((fields.seq, fields.at, fields.actor, action, entity, entity_id,
                             fields.change, digest, prev, h))
        self._head = (fields.seq, h)

    def record(self, action: str, entity: str, entity_id: str | int,
               change: dict[str, Any]) -> None:
        """Append an event for one entity; its state digest is read back from the row as stored
        (no row — a deletion — gives no digest)."""
        self.record_many(action, entity, [(entity_id, change)])

    def record_many(self, action: str, entity: str,
                    items: Sequence[tuple[str | int, dict[str, Any]]]) -> None:
        """Append one event per `(entity_id, change)`, reading the rows back in bulk."""
        if entity not in AUDITED:
            raise ValueError(f"{entity!r} is not an audited entity")
        self.session.flush()
        digests = self.store._digests(self._raw, entity, [i for i, _ in items])
        for entity_id, change in items:
            self._append(action, entity, str(entity_id), change, digests.get(str(entity_id)))

    def update(self, row: Any, wanted: dict[str, Any], action: str, entity: str,
               entity_id: str | int) -> dict[str, Any]:
        """Set the fields of `row` that `wanted` changes, stamp `updated_at` (and
        `updated_by`) where the row has them, and record one event whose change is
        ``{field: {"from": old, "to": new}}``. Nothing changes: nothing is written, `{}`."""
        change = {f: {"from": getattr(row, f), "to": v} for f, v in wanted.items()
                  if getattr(row, f) != v}
        if change:
            for f in change:
                setattr(row, f, wanted[f])
            if hasattr(row, "updated_at"):
                row.updated_at = self.now
            if hasattr(row, "updated_by"):
                row.updated_by = self.store.actor
            self.session.add(row)
            self.record(action, entity, entity_id, change)
        return change

    def _write_events(self) -> None:
        if self._events:
            self.session.connection().exec_driver_sql(_INSERT_EVENT, self._events)


class Store:
    """An open workspace. Build it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, path: Path, engine: Engine, *, actor: str, clock: Clock,
                 readonly: bool, busy_timeout: float) -> None:
        self.path = path
        self.actor = actor
        self.clock = clock
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self._engine = engine
        self._write_engine = engine.execution_options(crosswalk_write=True)
        self.created = False
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        create: bool = False,
        mode: Mode = "rw",
        actor: str = "unknown",
        clock: Clock = system_clock,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        seed: Callable[[Tx], None] | None = None,
    ) -> Store:
        """Open (or, with `create`, create and `seed`) the workspace at `path`.

        The file is checked before SQLite may write to it; an older schema is backed up and
        migrated forward in one transaction that is itself audited.
        """
        path = Path(path).expanduser().absolute()
        state = files.inspect(path)
        if not state.exists and not create:
            raise WorkspaceError(
                f"no workspace at {path}; create one with `crosswalk init` or pass --workspace"
            )
        if state.empty and not create:
            raise WorkspaceError(f"{path} is empty, not yet a workspace; run `crosswalk init` "
                                 "to make it one")
        needs_schema = state.empty or state.version < SCHEMA_VERSION
        can_write = files.writable(path)
        if mode == "auto":
            mode = "rw" if can_write else "ro"
        if mode == "ro" and needs_schema:
            raise WorkspaceError(
                f"workspace {path} is read-only and needs upgrading from schema v{state.version} "
                f"to v{SCHEMA_VERSION}; open it once with write access"
            )
        if mode == "rw" and not can_write:
            what = "create workspace" if not state.exists else "write workspace"
            raise WorkspaceError(
                f"cannot {what} {path}: the file or its folder is read-only"
            )
        fresh = state.empty
        made = files.create_private(path) if fresh else False
        engine = _make_engine(path, readonly=(mode == "ro"), busy_timeout=busy_timeout)
        store = cls(path, engine, actor=actor, clock=clock, readonly=(mode == "ro"),
                    busy_timeout=busy_timeout)
        try:
            if fresh:
                store._create(seed)
            elif state.version < SCHEMA_VERSION:
                store._migrate(state.version)
        except BaseException:
            engine.dispose()
            if made:  # only what this process created is removed: never someone else's file
                files.remove_with_side_files(path)
            elif fresh and not store.created:
                files.empty_again(path)  # the user's empty file goes back to being empty
            raise
        return store

    def _create(self, seed: Callable[[Tx], None] | None) -> None:
        with self.write() as tx:
            if tx._raw("PRAGMA user_version").scalar_one() != 0:
                return  # another Crosswalk created it while we waited for the lock
            self._apply(tx, 0)
            if seed is not None:
                seed(tx)
        self.created = True

    def _migrate(self, version: int) -> None:
        stamp = iso_utc(self.clock()).replace("-", "").replace(":", "")[:15] + "Z"
        try:
            self.backup_path = files.backup(self.path, version, stamp)
        except (OSError, sqlite3.Error) as exc:
            raise WorkspaceError(
                f"cannot back up workspace {self.path} before upgrading it: {exc}"
            ) from exc
        try:
            with self.write() as tx:
                if tx._raw("PRAGMA user_version").scalar_one() != version:
                    return  # another Crosswalk upgraded it while we waited for the lock
                # the workspace row's own event below already records its new state
                before = {t: _columns(tx, t) for t in AUDITED if t != "workspace"}
                self._apply(tx, version)
                ws_id = tx._raw("SELECT id FROM workspace").scalar_one()
                tx.record("workspace.migrate", "workspace", ws_id, {
                    "from_version": version,
                    "to_version": SCHEMA_VERSION,
                    "backup": self.backup_path.name,
                })
                # rows of tables that gained columns now have a new stored state: record it
                for table, cols in before.items():
                    if cols and cols != _columns(tx, table):
                        ids = [r[0] for r in tx._raw(f"SELECT id FROM {table} ORDER BY id")]
                        tx.record_many(f"{table}.migrate", table,
                                       [(i, {"to_version": SCHEMA_VERSION}) for i in ids])
        except CrosswalkError:
            raise
        except Exception as exc:
            raise WorkspaceError(
                f"cannot upgrade workspace {self.path} from schema v{version}: "
                f"{getattr(exc, 'orig', exc)}; it is unchanged, and a backup is at "
                f"{self.backup_path}"
            ) from exc
        self.migrated_from = version

    @staticmethod
    def _apply(tx: Tx, version: int) -> None:
        for target, statements in steps(version):
            for sql in statements:
                tx._raw(sql)
            tx._raw(f"PRAGMA user_version = {int(target)}")
        tx._raw(f"PRAGMA application_id = {APPLICATION_ID}")

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session over one consistent snapshot of the workspace."""
        from sqlmodel import Session

        with self._translate_errors(), Session(self._engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction: everything in it, audit events included, commits or none."""
        if self.readonly:
            raise WorkspaceError(f"workspace {self.path} is open read-only")
        from sqlmodel import Session

        with self._translate_errors(), Session(self._write_engine,
                                              expire_on_commit=False) as session:
            tx = Tx(self, session)
            try:
                yield tx
                tx._write_events()
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def raw(self) -> Iterator[Callable[..., Any]]:
        """Raw SQL reads in one read transaction (one snapshot), with text decoded losslessly
        (bytes that are not UTF-8 become surrogate escapes), as `verify` needs."""
        with self._translate_errors(), self._engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            dbapi.text_factory = _lossless_text
            try:
                yield conn.exec_driver_sql
            finally:
                dbapi.text_factory = _readable_text

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        from sqlalchemy.exc import DBAPIError

        try:
            yield
        except (DBAPIError, sqlite3.Error) as exc:
            err = _user_error(exc, self.path, self.busy_timeout)
            if err is None:
                raise
            raise err from exc

    # ------------------------------------------------------------- state digests
    @staticmethod
    def _digests(run: Callable[..., Any], entity: str,
                 ids: Sequence[str | int] | None = None) -> dict[str, str]:
        """State digests of rows of an audited table: all rows, or those with `ids`."""
        out: dict[str, str] = {}
        if ids is None:
            chunks: list[Sequence[str | int] | None] = [None]
        else:
            chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            sql = f"SELECT * FROM {entity}"  # entity is checked against AUDITED by callers
            params: Sequence[Any] = ()
            if chunk is not None:
                sql += f" WHERE id IN ({','.join('?' * len(chunk))})"
                params = tuple(chunk)
            result = run(sql, params)
            cols = list(result.keys())
            for row in result:
                record = dict(zip(cols, row, strict=True))
                out[str(record["id"])] = state_digest(record)
        return out

    def current_digests(self, run: Callable[..., Any]) -> dict[tuple[str, str], str]:
        """Digests of every row of every audited table, as stored now (inside `raw()`)."""
        out: dict[tuple[str, str], str] = {}
        for entity in AUDITED:
            for entity_id, d in self._digests(run, entity).items():
                out[(entity, entity_id)] = d
        return out

    @property
    def schema_version(self) -> int:
        with self.raw() as run:
            return int(run("PRAGMA user_version").scalar_one())


def _make_engine(path: Path, *, readonly: bool, busy_timeout: float) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import QueuePool

    # read-only in a folder we cannot write: SQLite could not make the -shm it needs for a
    # WAL file, so read the file as immutable (nobody can be writing it without a -wal)
    immutable = (readonly and not files.folder_writable(path)
                 and not Path(f"{path}-wal").exists())

    def connect() -> sqlite3.Connection:
        if readonly:
            con = sqlite3.connect(files.readonly_uri(path, immutable=immutable), uri=True,
                                  timeout=busy_timeout, check_same_thread=False,
                                  isolation_level=None)
        else:
            con = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False,
                                  isolation_level=None)
        con.text_factory = _readable_text
        con.execute("PRAGMA foreign_keys = ON")
        con.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if not readonly:
            _enter_wal(con, busy_timeout)
        con.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        return con

    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool,
                           pool_size=4, max_overflow=8)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("crosswalk_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _enter_wal(con: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL, waiting for other connections as any write does.

    SQLite does not call the busy handler here: two connections switching a new (empty)
    file at the same moment both hold a read lock, and one is refused at once with "database
    is locked". Crosswalks started together (a TUI and a script) must not fail on that."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _columns(tx: Tx, table: str) -> list[str]:
    return [row[1] for row in tx._raw(f"PRAGMA table_info({table})")]


def _readable_text(raw: bytes) -> str:
    """Text columns for display: a value that is not UTF-8 (edited by hand) never crashes."""
    return raw.decode("utf-8", "replace")


def _lossless_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _user_error(exc: BaseException, path: Path, timeout: float) -> CrosswalkError | None:
    """Turn an SQLite failure into one sentence the analyst can act on (None: a bug)."""
    orig = getattr(exc, "orig", exc)
    msg = str(orig).strip()
    low = msg.lower()
    if "locked" in low or "busy" in low:
        return WorkspaceLocked(
            f"workspace {path} is locked by another process (waited {timeout:g} s); "
            "close the other Crosswalk session or try again"
        )
    if "readonly" in low or "read-only" in low:
        return WorkspaceError(f"cannot write workspace {path}: it is read-only")
    if "no such table" in low or "no such column" in low:
        return WorkspaceError(f"workspace {path} is damaged ({msg}); restore it from a backup")
    if "malformed" in low or "not a database" in low:
        return WorkspaceError(f"workspace {path} is corrupt ({msg}); restore it from a backup")
    if "disk is full" in low or "disk i/o" in low or "unable to open" in low:
        return WorkspaceError(f"cannot use workspace {path}: {msg}")
    if isinstance(orig, sqlite3.IntegrityError):
        return WorkspaceError(f"workspace {path} refused the change: {msg}")
    return None
