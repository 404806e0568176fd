"""search: PostgreSQL full-text objects (schema "search"; nothing on SQLite)

Revision ID: fff7216d57e0
Revises: 12e2338377ba
Create Date: 2026-11-22 00:30:00.000000

The objects the PostgreSQL search backend (buyergroup/search/postgres_backend.py) uses: the
unaccent extension, text search configurations with unaccent before the stemmer, the
search_documents table with its GIN indexes, and the search_words vocabulary. They live in
a schema of their own, so the application's metadata (and create_all on SQLite) never meets
them. This is a frozen copy of postgres_backend.SCHEMA_DDL; tests/search checks that the
backend works on what this migration builds.

unaccent is a trusted extension since PostgreSQL 13: the database owner may create it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'fff7216d57e0'
down_revision = '12e2338377ba'
branch_labels = None
depends_on = None


STATEMENTS = [
    'CREATE EXTENSION IF NOT EXISTS unaccent',
    'CREATE SCHEMA IF NOT EXISTS search',
    """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'search' AND c.cfgname = 'bg_english') THEN
    CREATE TEXT SEARCH CONFIGURATION search.bg_english (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION search.bg_english
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
  END IF;
END $$
""",
    """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'search' AND c.cfgname = 'bg_dutch') THEN
    CREATE TEXT SEARCH CONFIGURATION search.bg_dutch (COPY = pg_catalog.dutch);
    ALTER TEXT SEARCH CONFIGURATION search.bg_dutch
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, dutch_stem;
  END IF;
END $$
""",
    """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'search' AND c.cfgname = 'bg_french') THEN
    CREATE TEXT SEARCH CONFIGURATION search.bg_french (COPY = pg_catalog.french);
    ALTER TEXT SEARCH CONFIGURATION search.bg_french
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
  END IF;
END $$
""",
    """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'search' AND c.cfgname = 'bg_german') THEN
    CREATE TEXT SEARCH CONFIGURATION search.bg_german (COPY = pg_catalog.german);
    ALTER TEXT SEARCH CONFIGURATION search.bg_german
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, german_stem;
  END IF;
END $$
""",
    """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
                 WHERE n.nspname = 'search' AND c.cfgname = 'bg_simple') THEN
    CREATE TEXT SEARCH CONFIGURATION search.bg_simple (COPY = pg_catalog.simple);
    ALTER TEXT SEARCH CONFIGURATION search.bg_simple
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
  END IF;
END $$
""",
    """
CREATE TABLE IF NOT EXISTS search.search_documents (
  ref text PRIMARY KEY,
  item_id integer NOT NULL,
  language text NOT NULL,
  analysis text NOT NULL,
  audiences text[] NOT NULL DEFAULT '{}',
  facet_kind text[] NOT NULL DEFAULT '{}',
  facet_phase text[] NOT NULL DEFAULT '{}',
  facet_product_group text[] NOT NULL DEFAULT '{}',
  facet_theme text[] NOT NULL DEFAULT '{}',
  facet_language text[] NOT NULL DEFAULT '{}',
  facet_country text[] NOT NULL DEFAULT '{}',
  facet_organisation text[] NOT NULL DEFAULT '{}',
  facet_year text[] NOT NULL DEFAULT '{}',
  facet_codes text[] NOT NULL DEFAULT '{}',
  published timestamptz,
  sort_title text NOT NULL DEFAULT '',
  title text NOT NULL DEFAULT '',
  summary text NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  attachments_text text NOT NULL DEFAULT '',
  snippet text NOT NULL DEFAULT '',
  tsv tsvector NOT NULL DEFAULT ''::tsvector,
  spell tsvector NOT NULL DEFAULT ''::tsvector
)
""",
    'CREATE INDEX IF NOT EXISTS ix_search_documents_tsv ON search.search_documents USING gin (tsv)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_spell ON search.search_documents USING gin (spell)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_audiences ON search.search_documents USING gin (audiences)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_kind ON search.search_documents USING gin (facet_kind)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_phase ON search.search_documents USING gin (facet_phase)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_product_group ON search.search_documents USING gin (facet_product_group)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_theme ON search.search_documents USING gin (facet_theme)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_language ON search.search_documents USING gin (facet_language)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_country ON search.search_documents USING gin (facet_country)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_organisation ON search.search_documents USING gin (facet_organisation)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_facet_year ON search.search_documents USING gin (facet_year)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_published ON search.search_documents (published)',
    'CREATE INDEX IF NOT EXISTS ix_search_documents_sort_title ON search.search_documents (sort_title)',
    'CREATE TABLE IF NOT EXISTS search.search_words (word text COLLATE "C" PRIMARY KEY)',
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # the Whoosh backend needs nothing in the database
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # The unaccent extension stays: other objects may use it.
    op.execute("DROP SCHEMA IF EXISTS search CASCADE")
