"""The search index in PostgreSQL full-text search, for deployments that outgrow one machine.

The objects live in their own schema, ``search``, created by a migration on PostgreSQL only:

* text search configurations ``search.bg_english``, ``bg_dutch``, ``bg_french`` and
  ``bg_german``: the stock ones with ``unaccent`` chained *before* the stemmer, so
  "diligence raisonnee" finds "diligence raisonnée";
* ``search.search_documents``: one row per document, its ``tsv`` weighted A/B/C/D for
  title/summary/body/attachments, with GIN indexes on ``tsv`` and on the array columns that
  hold audiences and facet codes;
* ``search.search_words``: the folded words seen in documents, for "did you mean".

A schema of its own keeps these out of the application's metadata: ``create_all`` on SQLite
never meets a tsvector, and the schema comparison in ``tests/test_migrations.py`` (which
looks at the default schema) stays empty.

Queries are compiled from the same tree as Whoosh's (``syntax.py``): each word becomes
``plainto_tsquery``, each phrase ``phraseto_tsquery`` and each prefix ``to_tsquery('lab:*')``
in every language's configuration, joined with ``&&``, ``||`` and ``!!``. That supports what
``websearch_to_tsquery`` does (quotes, OR, -) plus brackets, NOT and prefixes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnElement

from buyergroup.search import common, syntax
from buyergroup.search.locking import WriterLock
from buyergroup.search.types import (
    FACETS,
    IndexBusy,
    QuerySyntaxError,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
)

log = logging.getLogger(__name__)

SCHEMA = "search"
CONFIGURATIONS = {"en": "english", "nl": "dutch", "fr": "french", "de": "german"}
# ts_rank_cd weights for {D, C, B, A}: attachments 0.5, body 1, summary 2, title 4 (scaled).
RANK_WEIGHTS = "'{0.125, 0.25, 0.5, 1.0}'::float4[]"
HEADLINE_OPTIONS = (
    f'StartSel="{common.MARK_START}", StopSel="{common.MARK_END}", MaxWords=35, '
    'MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)
WRITE_BATCH = 500
# Each tsvector also holds "zqxlang<code>" (no position, no weight) naming the language its
# text was analysed in, so that one indexable tsquery can ask for "q_en in English documents
# or q_nl in Dutch ones". No real word looks like it.
LANGUAGE_MARK = "zqxlang"
# Each tsvector also holds "zqxsample<n>", n in 0..SAMPLE_BUCKETS-1 from a hash of its group
# key (the same n for an item and its translations): a search with very many matches
# counts the documents of a few buckets, whole groups, and scales (``PostgresBackend._search``).
SAMPLE_MARK = "zqxsample"
SAMPLE_BUCKETS = common.SAMPLE_BUCKETS
_BUCKET_SQL = f"(('x' || substr(md5(group_key), 1, 8))::bit(32)::int & {SAMPLE_BUCKETS - 1})"
# And "zqxf<hash of kind=criterion>" for each of its facet codes: a search with words asks
# the text index for its filters too (``_match``), so that the index alone finds what is
# both about the words and in the filters, instead of the planner picking one index and
# testing the other condition in every row (170 ms for a common word in a big facet at
# 100,000 documents). A hash, as codes may hold what a tsquery would read as syntax; 48
# bits of md5, as every byte of a vector is read again to check a phrase (the full 32
# hexadecimal digits made phrases 15 % slower).
FACET_MARK = "zqxf"
_FACET_MARKS_SQL = (f"ARRAY(SELECT '{FACET_MARK}' || left(md5(code), 12) "
                    "FROM unnest(facet_codes) AS code)")

# Arbitrary constant naming the advisory lock that serialises index writers.
ADVISORY_LOCK_KEY = 0x62677365617263  # "bgsearc"


def facet_mark(facet: str, code: str) -> str:
    """The mark ``_FACET_MARKS_SQL`` puts in a vector for the code ``facet=code``."""
    return FACET_MARK + hashlib.md5(f"{facet}={code}".encode()).hexdigest()[:12]  # noqa: S324


# The statement's row with the number of documents it matched (not a facet code: no "=").
_MATCHED = "#matched"
# The page-row columns of a count's row (ref, item_id, language, score, position, snippet,
# headline), all NULL.
_NO_ROW = (cast(null(), Text), cast(null(), Integer), cast(null(), Text), cast(null(), Float),
           cast(null(), Integer), cast(null(), Text), cast(null(), Text))


def configuration(language: str) -> str:
    """The text search configuration for ``language``; "simple" (no stemming, no stop words,
    accents folded) for the spelling column."""
    if language == "simple":
        return f"{SCHEMA}.bg_simple"
    return f"{SCHEMA}.bg_{CONFIGURATIONS[common.analysis_language(language)]}"


metadata = MetaData(schema=SCHEMA)

documents = Table(
    "search_documents",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("item_id", Integer, nullable=False),
    Column("language", Text, nullable=False),
    # Versions of one thing (an item's translations) share it; a document alone: its ref.
    Column("group_key", Text, nullable=False),
    Column("analysis", Text, nullable=False),  # which configuration analysed the text
    Column("audiences", ARRAY(Text), nullable=False),
    *(Column(f"facet_{facet}", ARRAY(Text), nullable=False) for facet in FACETS),
    # Every facet's codes in one array ("kind=criterion", "year=2021"): counting them is one
    # unnest and one aggregate, not eight (16 against 27 ms for 3,700 matches).
    Column("facet_codes", ARRAY(Text), nullable=False),
    Column("published", DateTime(timezone=True)),
    Column("sort_title", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("attachments_text", Text, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("tsv", TSVECTOR, nullable=False, server_default=text("''::tsvector")),
    # The words as written (accents folded, not stemmed, no positions), for "did you mean":
    # is this exact word in a document the searcher may see?
    Column("spell", TSVECTOR, nullable=False, server_default=text("''::tsvector")),
)

words = Table("search_words", metadata, Column("word", Text, primary_key=True))

# One row: the generation of the index, changed in every transaction that writes to it.
index_state = Table("index_state", metadata,
                    Column("id", Integer, primary_key=True),
                    Column("generation", BigInteger, nullable=False))


def _ddl(facets: tuple[str, ...] = FACETS) -> list[str]:
    """The statements that create the search schema; safe to run again.

    ``facets``: the facet columns to create (a later migration adds facets to the first one).

    The migration holds a frozen copy of these (migrations do not import the app);
    ``tests/search`` checks that the migration's result works with this module.
    """
    statements = [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    ]
    for stock in (*CONFIGURATIONS.values(), "simple"):
        dictionary = "simple" if stock == "simple" else f"{stock}_stem"
        statements.append(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = '{SCHEMA}' AND c.cfgname = 'bg_{stock}') THEN
    CREATE TEXT SEARCH CONFIGURATION {SCHEMA}.bg_{stock} (COPY = pg_catalog.{stock});
    ALTER TEXT SEARCH CONFIGURATION {SCHEMA}.bg_{stock}
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {dictionary};
  END IF;
END $$""")
    facet_columns = ",\n".join(
        f"  facet_{facet} text[] NOT NULL DEFAULT '{{}}'" for facet in facets
    )
    statements.append(f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.search_documents (
  ref text PRIMARY KEY,
  item_id integer NOT NULL,
  language text NOT NULL,
  analysis text NOT NULL,
  audiences text[] NOT NULL DEFAULT '{{}}',
{facet_columns},
  facet_codes text[] NOT NULL DEFAULT '{{}}',
  published timestamptz,
  sort_title text NOT NULL DEFAULT '',
  title text NOT NULL DEFAULT '',
  summary text NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  attachments_text text NOT NULL DEFAULT '',
  snippet text NOT NULL DEFAULT '',
  tsv tsvector NOT NULL DEFAULT ''::tsvector,
  spell tsvector NOT NULL DEFAULT ''::tsvector
)""")
    index = f"CREATE INDEX IF NOT EXISTS ix_search_documents_{{name}} ON {SCHEMA}.search_documents"
    statements += [
        index.format(name="tsv") + " USING gin (tsv)",
        index.format(name="spell") + " USING gin (spell)",
        index.format(name="audiences") + " USING gin (audiences)",
        *(index.format(name=f"facet_{f}") + f" USING gin (facet_{f})" for f in facets),
        index.format(name="published") + " (published)",
        index.format(name="sort_title") + " (sort_title)",
        # COLLATE "C" so that a range on the first letter is an index scan.
        f'CREATE TABLE IF NOT EXISTS {SCHEMA}.search_words (word text COLLATE "C" PRIMARY KEY)',
    ]
    return statements


SCHEMA_DDL = _ddl()

# Columns a search reads for every match, kept in the row (STORAGE MAIN): frozen with
# the migration that set them (a facet added later needs its own).
_KEPT_IN_ROW = ("group_key", "audiences", "facet_codes", "sort_title", "facet_kind",
                "facet_phase", "facet_product_group", "facet_theme", "facet_language",
                "facet_country", "facet_organisation", "facet_year", "facet_ambition",
                "facet_verification")

# Later changes, each list frozen in its migration (SCHEMA_DDL stays as first shipped), by
# the migration's revision.
UPGRADES_BY_REVISION = {
    # Issue 12: one result per item with its translations folded in.
    "c3d9e1f0a712": [
        f"ALTER TABLE {SCHEMA}.search_documents ADD COLUMN IF NOT EXISTS group_key text "
        "NOT NULL DEFAULT ''",
        f"UPDATE {SCHEMA}.search_documents SET group_key = ref WHERE group_key = ''",
    ],
    # Issue 12: the index's generation, which every write changes, for the result cache.
    # From a sequence, which no rollback rewinds: a generation never names two states.
    "d4e5f6a7b8c9": [
        f"CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.index_generations",
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.index_state (id smallint PRIMARY KEY "
        "CHECK (id = 1), generation bigint NOT NULL)",
        f"INSERT INTO {SCHEMA}.index_state (id, generation) "
        f"VALUES (1, nextval('{SCHEMA}.index_generations')) ON CONFLICT (id) DO NOTHING",
        # Narrow rows: what a search reads of every match (audiences, facets, group) stays
        # in the row; the big values (snippet, texts, tsvectors) go to the TOAST table
        # (rows written from now on; a reindex rewrites the others).
        f"ALTER TABLE {SCHEMA}.search_documents SET (toast_tuple_target = 128)",
        f"ALTER TABLE {SCHEMA}.search_documents "
        + ", ".join(f"ALTER COLUMN {name} SET STORAGE MAIN" for name in _KEPT_IN_ROW),
        # LZ4 for the big values (where the server has it): reading them back for ranking
        # and headlines is what a search waits for, and pglz decompresses slowly.
        "DO $$ BEGIN EXECUTE 'ALTER TABLE search.search_documents "
        "ALTER COLUMN tsv SET COMPRESSION lz4, ALTER COLUMN spell SET COMPRESSION lz4, "
        "ALTER COLUMN snippet SET COMPRESSION lz4'; "
        "EXCEPTION WHEN OTHERS THEN NULL; END $$",
    ],
    # Issue 12: the sample marks, for searches with very many matches, and the facet marks,
    # for searches with words and filters.
    "b5e8d2c4a913": [
        f"UPDATE {SCHEMA}.search_documents SET tsv = tsv || array_to_tsvector(ARRAY["
        f"'{SAMPLE_MARK}' || {_BUCKET_SQL}] || {_FACET_MARKS_SQL})",
    ],
}
SCHEMA_UPGRADES = [statement for statements in UPGRADES_BY_REVISION.values()
                   for statement in statements]


def install(connection: Connection) -> None:
    """Create the search schema (tests, benchmarks; production uses the migration)."""
    for statement in (*SCHEMA_DDL, *SCHEMA_UPGRADES):
        connection.exec_driver_sql(statement)


@functools.lru_cache(maxsize=200_000)
def _folded(word: str) -> str:
    return syntax.fold(word)


# Writing: rows are copied into this temporary table (dropped at commit), then analysed
# into the index by one statement.
_INCOMING = "search_incoming"
_COPIED = [c.name for c in documents.columns if c.name not in ("tsv", "spell")] + ["spelling"]
_TEXTS = ("title", "summary", "body", "attachments_text")
_WEIGHTS = dict(zip(_TEXTS, "ABCD", strict=True))


def _write_statement(table: str = "search_documents") -> str:
    """INSERT ... SELECT into ``table`` from ``_INCOMING``: the tsvector (the language,
    sample and facet marks, then title, summary, body and attachments weighted A to D in
    the row's language), the spelling vector (from the distinct words), and the row. The
    body and attachments are analysed, not kept: nothing reads them back (snippets come
    from ``snippet``), and they made every row wide."""
    configuration_of = "CASE analysis " + " ".join(
        f"WHEN '{code}' THEN '{configuration(code)}'::regconfig" for code in CONFIGURATIONS
    ) + f" ELSE '{configuration('en')}'::regconfig END"
    vector = (f"array_to_tsvector(ARRAY['{LANGUAGE_MARK}' || analysis, "
              f"'{SAMPLE_MARK}' || {_BUCKET_SQL}] || {_FACET_MARKS_SQL}) || ") + " || ".join(
        f"setweight(to_tsvector(cfg, {name}), '{_WEIGHTS[name]}')" for name in _TEXTS)
    spell = f"strip(to_tsvector('{configuration('simple')}'::regconfig, spelling))"
    stored = [name for name in _COPIED if name != "spelling"]
    kept = {name: ("''" if name in ("body", "attachments_text") else name) for name in stored}
    columns = [*stored, "tsv", "spell"]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name != "ref")
    return (f"INSERT INTO {SCHEMA}.{table} ({', '.join(columns)}) "
            f"SELECT {', '.join(kept[name] for name in stored)}, {vector}, {spell} "
            f"FROM (SELECT *, {configuration_of} AS cfg FROM {_INCOMING}) AS incoming "
            f"ON CONFLICT (ref) DO UPDATE SET {updates}")


_WRITE = _write_statement()
# A rebuild writes a table of its own, without the text indexes, and builds them at the
# end (``PostgresBackend.rebuild``).
_REBUILT = "search_documents_rebuilt"
_WRITE_REBUILT = _write_statement(_REBUILT)


class _AdvisoryLock:
    """A session-level advisory lock, held on a connection of its own until released."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Connection | None = None

    def acquire(self, deadline: float) -> None:
        connection = self.engine.connect()
        try:
            while True:
                got = connection.execute(
                    select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY))).scalar_one()
                connection.commit()  # the lock belongs to the session, not the transaction
                if got:
                    self._connection = connection
                    return
                if time.monotonic() >= deadline:
                    raise IndexBusy("another process is writing to the search index")
                time.sleep(0.02)
        except BaseException:
            connection.close()
            raise

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
            connection.commit()
        finally:
            connection.close()


_advisory_locks: dict[tuple[int, str], WriterLock] = {}
_advisory_guard = threading.Lock()


def _is_timeout(error: OperationalError) -> bool:
    original = error.orig
    return (getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)) == "57014"


class PostgresBackend:
    """The ``SearchBackend`` contract on PostgreSQL full-text search."""

    name = "postgresql"

    def __init__(self, engine: Engine, *, writer_timeout: float = 30.0,
                 statement_timeout_ms: int = 5000,
                 reading_connection: Callable[[], Connection] | None = None,
                 result_cache_size: int = 256, exact_limit: int = 5_000,
                 sample_size: int = 3_000, rebuild_writers: int = 2):
        """``reading_connection``: where searches read, e.g. the request's own session
        connection (the app passes it, so that a search request holds one pooled
        connection, not two); by default a connection of their own from ``engine``.

        ``exact_limit``: a search matching more documents than this (0: no limit) ranks,
        folds and counts a sample of about ``sample_size`` of them, whole groups, and
        scales the counts by how many matched in all (``SearchResults.estimated``).
        ``rebuild_writers``: connections a rebuild writes on at once (``procs`` overrides):
        the database server analyses the texts, one core per connection."""
        if engine.dialect.name != "postgresql":
            raise ValueError("SEARCH_BACKEND=postgresql needs a PostgreSQL database")
        self.engine = engine
        self._reading_connection = reading_connection
        self.writer_timeout = writer_timeout
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.exact_limit = max(int(exact_limit), 0)  # (a negative setting: no limit)
        self.sample_size = max(int(sample_size), 1)
        self.rebuild_writers = max(int(rebuild_writers), 1)
        # Recent results per generation of the index (``search.index_state``).
        self.results = common.ResultCache(result_cache_size)

    # --- Locks and writes ---------------------------------------------------------------

    def writer_lock(self, timeout: float):
        key = (os.getpid(), self.engine.url.render_as_string(hide_password=True))
        with _advisory_guard:
            lock = _advisory_locks.get(key)
            if lock is None:
                advisory = _AdvisoryLock(self.engine)
                lock = _advisory_locks[key] = WriterLock(advisory.acquire, advisory.release)
        return lock.hold(timeout)

    @staticmethod
    def _row(document: SearchDocument) -> dict[str, Any]:
        row: dict[str, Any] = {
            "ref": document.ref,
            "item_id": int(document.item_id),
            "language": document.language,
            "group_key": document.group or document.ref,
            "analysis": common.analysis_language(document.language),
            "audiences": common.clean_codes(document.audiences),
            "published": document.published_at,
            "sort_title": common.sort_title(document.title),
            "title": common.strip_marks(document.title or ""),
            "summary": common.strip_marks(document.summary or ""),
            "body": common.strip_marks(document.body or ""),
            "attachments_text": common.strip_marks(
                (document.attachments_text or "")[: common.MAX_ATTACHMENT_CHARS]),
            "snippet": common.snippet_source(document),
        }
        for facet in FACETS:
            row[f"facet_{facet}"] = common.clean_codes((document.facets or {}).get(facet))
        row["facet_codes"] = [f"{facet}={code}" for facet in FACETS
                              for code in row[f"facet_{facet}"]]
        return row

    @staticmethod
    def _words(row: dict[str, Any]) -> set[str]:
        """The distinct words of a row's texts, as the query syntax reads words."""
        found: set[str] = set()
        for field in _TEXTS:
            found.update(syntax.WORD_RE.findall(row[field]))
        return found

    @staticmethod
    def _vocabulary(words_: set[str]) -> list[str]:
        """The folded words, for "did you mean" (each distinct word folded once: folding
        every occurrence was a third of the build's time)."""
        return sorted({_folded(word) for word in words_
                       if 3 <= len(word) <= 30 and not word.isdigit()})

    def _write(self, connection: Connection, batch: list[SearchDocument],
               statement: str = _WRITE, vocabulary_out: set[str] | None = None) -> None:
        """Write a batch: COPY into a temporary table, then one INSERT ... SELECT that
        analyses the texts (``_WRITE``) and one for the new words. (One multi-row INSERT
        built with SQLAlchemy before: compiling it cost more than PostgreSQL's analysis.)

        The spelling vector is made from each document's distinct words, not its whole
        text: the same stripped vector for every word a query can ask about (words as the
        query syntax reads them), at a fifth of the analysis. ``vocabulary_out``: collect
        the words there instead (a rebuild writes them once, at the end)."""
        # One row per ref: ON CONFLICT cannot update a row twice in one statement.
        rows = [self._row(d) for d in {d.ref: d for d in batch}.values()]
        if not rows:
            return
        vocabulary: set[str] = set()
        for row in rows:
            words_ = self._words(row)
            row["spelling"] = " ".join(sorted(words_))
            vocabulary |= words_
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {_INCOMING} "
            f"(LIKE {SCHEMA}.search_documents INCLUDING DEFAULTS, spelling text NOT NULL) "
            "ON COMMIT DROP")
        connection.exec_driver_sql(f"TRUNCATE {_INCOMING}")
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {_INCOMING} ({', '.join(_COPIED)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[name] for name in _COPIED])
        finally:
            cursor.close()
        connection.exec_driver_sql(statement)
        if vocabulary_out is not None:
            vocabulary_out |= vocabulary
            return
        self._insert_words(connection, vocabulary)

    def _insert_words(self, connection: Connection, vocabulary: set[str]) -> None:
        folded = self._vocabulary(vocabulary)
        if folded:
            connection.execute(
                insert(words).from_select(
                    ["word"], select(func.unnest(literal(folded, ARRAY(Text))))
                ).on_conflict_do_nothing()
            )

    @staticmethod
    def _next_generation(connection: Connection) -> None:
        """Give the index a new generation in the writing transaction: cached results of
        the old one are no longer found once it commits (and stay right if it rolls back)."""
        connection.exec_driver_sql(
            f"INSERT INTO {SCHEMA}.index_state (id, generation) "
            f"VALUES (1, nextval('{SCHEMA}.index_generations')) ON CONFLICT (id) "
            f"DO UPDATE SET generation = EXCLUDED.generation")

    def upsert(self, documents_: list[SearchDocument]) -> None:
        """Add or replace ``documents_`` (matched on ``ref``) in one transaction."""
        if not documents_:
            return
        with self.engine.begin() as connection:
            for start in range(0, len(documents_), WRITE_BATCH):
                self._write(connection, documents_[start : start + WRITE_BATCH])
            self._next_generation(connection)

    def delete(self, refs: list[str]) -> None:
        if not refs:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(documents).where(documents.c.ref.in_(refs)))
            self._next_generation(connection)

    def rebuild(self, documents_: Iterable[SearchDocument], *, procs: int | None = None) -> int:
        """Replace the whole index: searches read the old table until the new one takes
        its place, in one short transaction at the end.

        The documents go into a table of their own (``_REBUILT``) with only its primary
        key, in batches on ``procs`` connections at once (PostgreSQL analyses each batch's
        texts on one core: that is most of a rebuild); its other indexes are built once it
        is full, in one pass each rather than grown row by row. Then, in one transaction,
        the words are replaced, the old table is dropped (this waits for the searches
        reading it) and the new one takes its names. A rebuild that fails leaves the old
        index as it was."""
        writers = max(int(procs or self.rebuild_writers), 1)
        with self.writer_lock(self.writer_timeout):
            indexes = self._create_rebuilt_table()
            try:
                vocabulary: set[str] = set()
                count = self._fill_rebuilt_table(documents_, writers, vocabulary)
                with self.engine.begin() as connection:
                    # Memory for building the GIN indexes in one pass (this transaction's).
                    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                    for name, definition in indexes.items():
                        connection.exec_driver_sql(definition.replace(
                            f"INDEX {name} ON {SCHEMA}.search_documents ",
                            f"INDEX {name}_rebuilt ON {SCHEMA}.{_REBUILT} ", 1))
                    connection.execute(delete(words))
                    self._insert_words(connection, vocabulary)
                    connection.exec_driver_sql(f"DROP TABLE {SCHEMA}.search_documents")
                    connection.exec_driver_sql(
                        f"ALTER TABLE {SCHEMA}.{_REBUILT} RENAME TO search_documents")
                    connection.exec_driver_sql(
                        f"ALTER TABLE {SCHEMA}.search_documents RENAME CONSTRAINT "
                        f"{_REBUILT}_pkey TO search_documents_pkey")
                    for name in indexes:
                        connection.exec_driver_sql(
                            f"ALTER INDEX {SCHEMA}.{name}_rebuilt RENAME TO {name}")
                    self._next_generation(connection)
            except BaseException:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SCHEMA}.{_REBUILT}")
                raise
        # Visibility map and planner statistics for the new table now, rather than leave
        # searches slow until autovacuum comes by.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql(f"VACUUM (ANALYZE) {SCHEMA}.search_documents, {SCHEMA}.search_words")
        return count

    def _create_rebuilt_table(self) -> dict[str, str]:
        """The empty table a rebuild fills, shaped as the live one (columns, storage,
        compression, options, primary key); returns the live table's other indexes."""
        with self.engine.begin() as connection:
            indexes, options = self._shape(connection)
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SCHEMA}.{_REBUILT}")
            connection.exec_driver_sql(
                f"CREATE TABLE {SCHEMA}.{_REBUILT} (LIKE {SCHEMA}.search_documents "
                "INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)"
                + (f" WITH ({', '.join(options)})" if options else ""))
            connection.exec_driver_sql(f"ALTER TABLE {SCHEMA}.{_REBUILT} ADD CONSTRAINT "
                                       f"{_REBUILT}_pkey PRIMARY KEY (ref)")
        return indexes

    def _fill_rebuilt_table(self, documents_: Iterable[SearchDocument], writers: int,
                            vocabulary: set[str]) -> int:
        """Write ``documents_`` into the rebuilt table, ``writers`` batches at a time (each
        in a transaction of its own: nobody reads that table yet); the words into
        ``vocabulary``. The documents are read here, in the caller's thread and app
        context; only the writing is handed to the others."""

        def write(batch: list[SearchDocument]) -> set[str]:
            seen: set[str] = set()
            with self.engine.begin() as connection:
                self._write(connection, batch, _WRITE_REBUILT, seen)
            return seen

        def batches() -> Iterator[list[SearchDocument]]:
            batch: list[SearchDocument] = []
            for document in documents_:
                batch.append(document)
                if len(batch) >= WRITE_BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch

        count = 0
        with ThreadPoolExecutor(max_workers=writers,
                                thread_name_prefix="search-rebuild") as pool:
            running: set[Future] = set()
            for batch in batches():
                running.add(pool.submit(write, batch))
                count += len(batch)
                if len(running) >= 2 * writers:  # a few batches in memory, not all of them
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        vocabulary |= future.result()
            for future in running:
                vocabulary |= future.result()
        return count

    @staticmethod
    def _shape(connection: Connection) -> tuple[dict[str, str], list[str]]:
        """The live table's indexes but its primary key (name: CREATE INDEX statement) and
        its storage options (``toast_tuple_target``), which a rebuilt table must have too:
        read from the catalogue, so that they stay what the migrations made."""
        indexes = dict(connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema "
            "AND tablename = 'search_documents' AND indexname <> 'search_documents_pkey'"),
            {"schema": SCHEMA}).all())
        options = connection.execute(text(
            "SELECT reloptions FROM pg_class WHERE oid = CAST(:table AS regclass)"),
            {"table": f"{SCHEMA}.search_documents"}).scalar_one()
        return indexes, list(options or [])

    def refs(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.execute(select(documents.c.ref)).scalars())

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(documents)).scalar_one()

    # --- Queries ------------------------------------------------------------------------

    @staticmethod
    def _config(code: str) -> ColumnElement:
        return literal_column(f"'{configuration(code)}'::regconfig")

    def _tsquery(self, node: syntax.Node, code: str) -> ColumnElement:
        config = self._config(code)
        if isinstance(node, (syntax.Term, syntax.Phrase)) and not syntax.searched_in(node, code):
            # A glossary translation of another language: nothing in this one (an empty
            # tsquery drops out of the OR it stands in).
            return literal_column("''::tsquery")
        if isinstance(node, syntax.Term):
            if node.prefix:
                # The word is letters and digits only (syntax.WORD_RE): safe in to_tsquery.
                return func.to_tsquery(config, literal(f"{node.text}:*", Text))
            return func.plainto_tsquery(config, literal(node.text, Text))
        if isinstance(node, syntax.Phrase):
            return func.phraseto_tsquery(config, literal(" ".join(node.words), Text))
        if isinstance(node, syntax.Not):
            return func.tsquery_not(self._tsquery(node.child, code))
        combine = "tsquery_and" if isinstance(node, syntax.And) else "tsquery_or"
        compiled = self._tsquery(node.children[0], code)
        for child in node.children[1:]:
            compiled = getattr(func, combine)(compiled, self._tsquery(child, code))
        return compiled

    def _language_queries(self, connection: Connection,
                          tree: syntax.Node) -> dict[str, ColumnElement]:
        """The tree compiled for each language, languages where nothing is left dropped."""
        compiled = {code: self._tsquery(tree, code) for code in CONFIGURATIONS}
        sizes = connection.execute(
            select(*(func.numnode(q).label(code) for code, q in compiled.items()))
        ).one()
        kept = {code: q for code, q in compiled.items() if getattr(sizes, code) > 0}
        if not kept:
            raise QuerySyntaxError(
                "The search only holds very common words; add a more specific word."
            )
        return kept

    @staticmethod
    def _conditions(query: SearchQuery, *, with_text: bool) -> list[ColumnElement]:
        """Who may see it, and (browsing: with words ``_match`` asks the text index for
        them) the facet filters."""
        allowed = common.clean_codes(query.audiences)
        visible = documents.c.audiences.op("&&")(literal(allowed, ARRAY(Text)))
        if with_text:
            # Most documents are public, so the audience index narrows little; offered it,
            # the planner reads the audience matches and tests each tsvector (27 ms for a
            # common word at 10,000 documents) instead of asking the text index (4 ms).
            # "IS TRUE" keeps the condition but hides it from the index.
            visible = visible.is_(True)
        conditions = [visible]
        if with_text:
            return conditions
        for facet, values in common.checked_filters(query).items():
            column = documents.c[f"facet_{facet}"]
            conditions.append(column.op("&&")(literal(values, ARRAY(Text))))
        return conditions

    @staticmethod
    def _match(queries: dict[str, ColumnElement], buckets: int | None = None,
               filters: dict[str, list[str]] | None = None) -> ColumnElement:
        """``tsv`` matches the query of its document's language.

        One tsquery, ``(q_en & mark_en) | (q_nl & mark_nl) | ...``, where each document's
        tsvector holds the marker of its language: a constant the GIN index answers alone.
        (``analysis = 'en' AND tsv @@ q_en OR ...`` made the planner read every row.)
        ``buckets``: only the documents of the first so many sample buckets, in the same
        way (``& (zqxsample0 | zqxsample1 ...)``); ``filters``: only those in the facet
        filters (``& (kind a | kind b) & (year c)``).
        """
        combined = None
        for code, q in queries.items():
            branch = func.tsquery_and(q, literal_column(f"'{LANGUAGE_MARK}{code}'::tsquery"))
            combined = branch if combined is None else func.tsquery_or(combined, branch)
        wanted = [[f"{SAMPLE_MARK}{n}" for n in range(buckets)]] if buckets is not None else []
        wanted += [[facet_mark(facet, code) for code in codes]
                   for facet, codes in (filters or {}).items()]
        for marks in wanted:
            # Marks are letters and digits only: safe in a tsquery's text.
            combined = func.tsquery_and(
                combined, literal_column(f"'{' | '.join(marks)}'::tsquery"))
        return documents.c.tsv.op("@@")(combined)

    @staticmethod
    def _per_row(queries: dict[str, ColumnElement], analysis: ColumnElement) -> ColumnElement:
        first = next(iter(queries.values()))
        return case(*((analysis == code, q) for code, q in queries.items()), else_=first)

    def search(self, query: SearchQuery, expansions: dict[str, list[str]]) -> SearchResults:
        typed = syntax.parse(query.text)
        tree, applied = syntax.expand(typed, expansions)
        protected = frozenset(common.glossary_words(expansions))
        page, per_page = common.page_bounds(query)
        if not common.clean_codes(query.audiences):
            return SearchResults(hits=[], total=0, page=page, per_page=per_page,
                                 expansions=applied)
        key = common.query_key(query, expansions)
        try:
            with self._reading() as connection:
                generation, queries = self._prepare(connection, tree)
                cached = self.results.get((generation, key))
                if cached is not None:
                    return cached
                results = self._search(connection, query, tree, typed=typed,
                                       protected=protected, queries=queries)
                results.expansions = applied
                self.results.put((generation, key), results)
                return results
        except OperationalError as error:
            if not _is_timeout(error):
                raise
            log.warning("search timed out: %r", query.text)
            return SearchResults(hits=[], total=0, page=page, per_page=per_page, partial=True,
                                 error="The search took too long. Try fewer or more "
                                       "specific words.")

    def _prepare(self, connection: Connection,
                 tree: syntax.Node | None) -> tuple[int | None, dict[str, ColumnElement]]:
        """The search's settings, the index's generation and the languages in which the
        query keeps a word, in one statement (four before; each counts on a page).

        * ``statement_timeout``: a pathological query must not hold a connection (and a
          worker) for long.
        * ``enable_seqscan`` off: the planner does not know that testing a (TOASTed)
          tsvector costs far more than reading an index: for a word in a fifth of the
          documents it picks a sequential scan, 31 ms against 4 ms for the GIN bitmap scans
          at 10,000 documents (docs/performance.md). Queries without an indexable condition
          ("NOT x") still scan: this only removes the bad choice.
        * ``work_mem``: folding versions sorts every match by group: in memory, not on disk.
        * ``jit`` off: the planner cannot count the rows of the statement's CTEs, guesses
          millions, and compiled the statement to machine code first: 0.5-0.8 s at 100,000
          documents (issue 12), far more than running it.

        ``set_config(..., true)`` is ``SET LOCAL``: it ends with the search's savepoint.
        """
        compiled = ({code: self._tsquery(tree, code) for code in CONFIGURATIONS}
                    if tree is not None else {})
        row = connection.execute(select(
            func.set_config("statement_timeout", str(self.statement_timeout_ms), True),
            func.set_config("enable_seqscan", "off", True),
            func.set_config("work_mem", "32MB", True),
            func.set_config("jit", "off", True),
            select(index_state.c.generation).where(index_state.c.id == 1)
            .scalar_subquery().label("generation"),
            *(func.numnode(q).label(f"n_{code}") for code, q in compiled.items()),
        )).one()
        kept = {code: q for code, q in compiled.items() if getattr(row, f"n_{code}") > 0}
        if tree is not None and not kept:
            raise QuerySyntaxError(
                "The search only holds very common words; add a more specific word."
            )
        return row.generation, kept

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection in a transaction (or savepoint) that ends with the search."""
        if self._reading_connection is None:
            with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        connection = self._reading_connection()
        savepoint = connection.begin_nested()
        try:
            yield connection
        finally:
            # Only reads happened: rolling back to the savepoint undoes the SET LOCALs
            # (and, after a timeout, the error), leaving the caller's transaction as it was.
            savepoint.rollback()

    def _search(self, connection: Connection, query: SearchQuery, tree: syntax.Node | None,
                *, typed: syntax.Node | None = None,
                protected: frozenset[str] = frozenset(),
                queries: dict[str, ColumnElement] | None = None,
                sample: tuple[int, int] | None = None, exact: bool = False) -> SearchResults:
        """``typed``: the query as typed, for "did you mean" (None: no suggestion);
        ``exact``: rank and count every match, however many.

        One statement finds the matches, keeps one per group (an item's translations: the
        version in the reader's language if it matched, else the best ranked), and returns
        the total and facet counts over those representatives and the page's rows with
        their headlines.

        Ranking, folding and counting cost about linearly in the matches (a common word
        matches most of a large library: 300-1,000 ms at 100,000 documents). So the
        statement first counts the matching documents, which the text index answers
        without ranking; past ``exact_limit`` it stops there, and a second statement does
        the work on a sample (``sample``: its buckets and the documents matched in all):
        the documents of the first few sample buckets, whole groups, about
        ``sample_size``. The page shows the sample's best; the total and facet counts
        are the sample's, scaled by the documents matched over those in the sample (a
        ratio estimate: the total within 1 % for 95 % of the searches measured at 100,000
        items, docs/performance.md).
        """
        page, per_page = common.page_bounds(query)
        conditions = self._conditions(query, with_text=tree is not None)
        if tree is None:
            queries = {}
        elif queries is None:
            queries = self._language_queries(connection, tree)
        if queries:
            conditions.append(self._match(queries, sample[0] if sample else None,
                                          common.checked_filters(query)))
        d = documents.c
        if queries:
            rank = func.ts_rank_cd(literal_column(RANK_WEIGHTS), d.tsv,
                                   self._per_row(queries, d.analysis))
        else:
            rank = literal(0.0)
        sort = common.effective_sort(query, tree is not None)
        # Only the one column the order needs travels through the window's sort (narrow
        # rows sort in memory).
        key = {"relevance": rank, "newest": d.published, "title": d.sort_title}[sort]
        # Only for relevance: "newest first" or by title must order all the matches, not
        # a sample.
        limited = (bool(queries) and self.exact_limit > 0 and sample is None and not exact
                   and sort == "relevance")
        matched = select(d.ref, d.item_id, d.language, d.group_key, d.facet_codes,
                         key.label("o"), rank.label("score"))
        if limited:
            # The matches are found once (for a phrase, the text index's candidates are
            # checked against each row's positions: the slow part), counted, and only
            # then, within the limit, read again by their row address to be ranked.
            found = (select(literal_column("ctid").label("tid")).select_from(documents)
                     .where(and_(*conditions)).cte("found"))
            matched = matched.join_from(
                documents, found, literal_column(f"{documents.name}.ctid") == found.c.tid)
        else:
            matched = matched.where(and_(*conditions))
        matched = matched.cte("matched")
        m = matched.c
        within = {"relevance": [m.o.desc()], "newest": [m.o.desc().nulls_last()],
                  "title": [m.o]}[sort]
        # Bytewise on the key: the sort by group is much of what folding costs, and the
        # database's collation compares text far more slowly.
        group = m.group_key.collate("C")
        best = (func.min(m.o) if sort == "title" else func.max(m.o)).over(partition_by=group)
        own = case((m.language == (query.language or "").lower(), 0), else_=1)
        ranked = select(
            m.ref, m.item_id, m.language, m.facet_codes, m.score, best.label("best"),
            func.row_number().over(partition_by=group,
                                   order_by=[own, *within, m.ref]).label("version"),
        ).cte("ranked")
        reps = select(ranked).where(ranked.c.version == 1).cte("reps")
        r = reps.c
        order = {"relevance": [r.best.desc(), r.ref], "newest": [r.best.desc().nulls_last(), r.ref],
                 "title": [r.best, r.ref]}[sort]
        codes = func.unnest(r.facet_codes).table_valued("code").render_derived()
        nothing = cast(null(), Text)
        no_number = cast(null(), Integer)
        # The page first (a bounded sort of the first page * per_page), then its order: a
        # window over all the representatives sorted them all (tens of thousands at 100,000).
        top = (select(r.ref, r.item_id, r.language, r.score, r.best)
               .order_by(*order).limit(per_page).offset((page - 1) * per_page).subquery("top"))
        top_order = {"relevance": [top.c.best.desc(), top.c.ref],
                     "newest": [top.c.best.desc().nulls_last(), top.c.ref],
                     "title": [top.c.best, top.c.ref]}[sort]
        page_of = select(top.c.ref, top.c.item_id, top.c.language, top.c.score,
                         func.row_number().over(order_by=top_order).label("position")
                         ).subquery("page_of")
        # The page's rows with their headlines, in the same statement (a second one before).
        shown = documents.alias("shown")
        parts = [
            select(literal("").label("code"), func.count().label("n"), nothing.label("ref"),
                   no_number.label("item_id"), nothing.label("language"),
                   cast(null(), Float).label("score"), no_number.label("position"),
                   nothing.label("snippet"), nothing.label("headline")).select_from(reps),
            select(codes.c.code, func.count(), *_NO_ROW)
            .select_from(reps.join(codes, true())).group_by(codes.c.code),
            select(nothing, no_number, page_of.c.ref, page_of.c.item_id, page_of.c.language,
                   page_of.c.score, page_of.c.position, shown.c.snippet,
                   self._headline(queries, shown))
            .join_from(page_of, shown, shown.c.ref == page_of.c.ref),
        ]
        if limited:
            # The count first; past the limit the parts above are not run at all (a
            # one-time filter on the count).
            counted = select(func.count().label("n")).select_from(found).cte("counted")
            within = select(counted.c.n).scalar_subquery() <= self.exact_limit
            parts = [part.where(within) for part in parts]
            parts.append(select(literal(_MATCHED), counted.c.n, *_NO_ROW))
        elif sample is not None:
            parts.append(select(literal(_MATCHED), func.count(), *_NO_ROW).select_from(matched))
        total, matched_here = 0, None  # the documents this statement matched
        facets: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
        page_rows = []
        for row in connection.execute(union_all(*parts)):
            if row.ref is not None:
                page_rows.append(row)
            elif row.code == "":
                total = int(row.n)
            elif row.code == _MATCHED:
                matched_here = int(row.n)
            else:
                facet, _, value = row.code.partition("=")
                if facet in facets:
                    facets[facet].append((value, int(row.n)))
        if limited and matched_here is not None and matched_here > self.exact_limit:
            # Past the limit the statement stopped at the count: the sample, or (when a
            # sample would be all of it) every match after all.
            buckets = common.sample_buckets(matched_here, self.exact_limit, self.sample_size)
            return self._search(connection, query, tree, typed=typed, protected=protected,
                                queries=queries, exact=buckets is None,
                                sample=None if buckets is None else (buckets, matched_here))
        estimated, reachable = False, None
        if sample is not None:
            if not matched_here:
                # No sample marks (rows written before them, until a reindex): all of it.
                return self._search(connection, query, tree, typed=typed,
                                    protected=protected, queries=queries, exact=True)
            estimated, reachable = True, total
            total, facets = common.scaled_counts(total, facets, sample[1], matched_here)
        for facet in FACETS:
            facets[facet].sort(key=lambda kv: (-kv[1], kv[0]))
        page_rows.sort(key=lambda row: row.position)
        hits = [self._hit(row) for row in page_rows]
        suggestion = None
        if typed is not None and common.wants_suggestion(typed, total):
            # Only for few results, and only the words as typed (not the glossary's).
            suggestion = self._suggest(connection, query, typed, protected)
        return SearchResults(hits=hits, total=total, page=page, per_page=per_page,
                             facets=facets, suggestion=suggestion, estimated=estimated,
                             reachable=reachable)

    def _headline(self, queries: dict[str, ColumnElement], shown) -> ColumnElement:
        """A row's snippet with the matches marked (``ts_headline`` re-parses the text: for
        the page's rows only); NULL when browsing."""
        if not queries:
            return cast(null(), Text)
        config = case(*((shown.c.analysis == code, self._config(code)) for code in CONFIGURATIONS),
                      else_=self._config("en"))
        # ts_headline drops what looks like HTML ("<script>"); hand it stand-ins instead
        # and escape the real characters afterwards.
        source = func.translate(shown.c.snippet, literal("".join(common.HTML_STAND_INS), Text),
                                literal("".join(common.HTML_STAND_INS.values()), Text))
        return func.ts_headline(config, source, self._per_row(queries, shown.c.analysis),
                                literal(HEADLINE_OPTIONS, Text))

    @staticmethod
    def _hit(row) -> SearchHit:
        marked = row.headline or ""
        snippet = (common.marks_to_html(marked) if common.MARK_START in marked
                   else common.fallback_snippet(row.snippet or ""))
        return SearchHit(item_id=row.item_id, ref=row.ref, language=row.language,
                         score=float(row.score or 0.0), snippet=snippet)

    # --- Did you mean -------------------------------------------------------------------

    def _suggest(self, connection: Connection, query: SearchQuery, tree: syntax.Node,
                 protected: frozenset[str] = frozenset()) -> str | None:
        visible = and_(*self._conditions(SearchQuery(audiences=query.audiences),
                                         with_text=True))
        language = common.query_language(query)

        def containing(word: str, limit: int, *, in_language: bool = False) -> int:
            # Documents this searcher may see with the word as typed (unstemmed: "electronis"
            # must not count as "electronique"), counted up to ``limit``.
            spelled = func.plainto_tsquery(self._config("simple"), literal(word, Text))
            conditions = [visible, documents.c.spell.op("@@")(spelled)]
            if in_language and language:
                conditions.append(documents.c.language == language)
            found = select(literal(1)).where(*conditions)
            return connection.execute(
                select(func.count()).select_from(found.limit(limit).subquery())
            ).scalar_one()

        def known(word: str) -> bool:
            return containing(word, 1) > 0

        def frequency(word: str) -> int:
            return containing(word, 1000)  # enough to rank candidates

        def in_language(word: str) -> int:
            return containing(word, 1, in_language=True)

        def candidates(word: str) -> list[str]:
            folded = syntax.fold(word)
            first = folded[0]
            rows = connection.execute(
                select(words.c.word).where(
                    words.c.word >= first,
                    words.c.word < chr(ord(first) + 1),
                    func.length(words.c.word).between(len(folded) - 2, len(folded) + 2),
                )
            ).scalars()
            near = []
            for candidate in rows:
                distance = syntax.damerau_levenshtein(folded, candidate)
                if 0 < distance <= 2:
                    near.append((distance, candidate))
            return [candidate for _, candidate in sorted(near)[:8]]

        def finds_any(text_: str) -> bool:
            corrected = SearchQuery(text=text_, filters=query.filters,
                                    audiences=query.audiences, page=1, per_page=1)
            try:
                tree_ = syntax.parse(text_)
                return self._search(connection, corrected, tree_).total > 0
            except QuerySyntaxError:
                return False

        return common.suggest_correction(tree, query.text, known=known, candidates=candidates,
                                         frequency=frequency, finds_any=finds_any,
                                         protected=protected,
                                         in_language=in_language if language else None)


__all__ = ["PostgresBackend", "SCHEMA_DDL", "SCHEMA_UPGRADES", "UPGRADES_BY_REVISION", "documents",
           "index_state", "install", "words"]
