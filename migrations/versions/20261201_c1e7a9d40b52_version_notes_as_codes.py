"""library versions: the site's own notes stored as codes, shown in the reader's language

Revision ID: c1e7a9d40b52
Revises: a535d8086451
Create Date: 2026-12-01 12:50:00

Notes such as "Published" were stored in the editor's language ("Gepubliceerd", "Publiée").
They become codes ("code:published") that each page translates for its reader. Notes an
editor typed stay as typed. The downgrade writes the English text back.
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1e7a9d40b52'
down_revision = 'a535d8086451'
branch_labels = None
depends_on = None

# What each site-written note was stored as, in en, nl, fr and de (the catalogues' words).
NOTES = {
    "created": ["Created", "Aangemaakt", "Créé le", "Créée", "Création", "Erstellt"],
    "submitted": ["Submitted for review", "Ter beoordeling ingediend", "Soumise pour relecture",
                  "Zur Prüfung eingereicht"],
    "published": ["Published", "Gepubliceerd", "Publiée", "Veröffentlicht"],
    "returned": ["Returned to the author", "Teruggestuurd naar de auteur",
                 "Renvoyée à l'auteur", "Zur Überarbeitung zurückgegeben"],
    "linked": ["Linked as a translation", "Gekoppeld als vertaling", "Liée comme traduction",
               "Als Übersetzung verknüpft"],
}
TRANSLATION_OF = re.compile(
    r"^(?:Translation of item|Vertaling van item|Traduction de la ressource n°|"
    r"Übersetzung von Eintrag) (\d+)$")
ENGLISH = {"created": "Created", "submitted": "Submitted for review",
           "published": "Published", "returned": "Returned to the author",
           "linked": "Linked as a translation"}

versions = sa.table("library_item_versions", sa.column("id", sa.Integer),
                    sa.column("note", sa.String(300)))


def upgrade():
    connection = op.get_bind()
    for key, words in NOTES.items():
        connection.execute(versions.update().where(versions.c.note.in_(words))
                           .values(note=f"code:{key}"))
    rows = connection.execute(sa.select(versions.c.id, versions.c.note).where(
        versions.c.note.like("% %"), ~versions.c.note.like("code:%"))).all()
    for row_id, note in rows:
        match = TRANSLATION_OF.match(note or "")
        if match:
            connection.execute(versions.update().where(versions.c.id == row_id)
                               .values(note=f"code:translation_of:{match.group(1)}"))


def downgrade():
    connection = op.get_bind()
    for key, english in ENGLISH.items():
        connection.execute(versions.update().where(versions.c.note == f"code:{key}")
                           .values(note=english))
    rows = connection.execute(sa.select(versions.c.id, versions.c.note).where(
        versions.c.note.like("code:translation_of:%"))).all()
    for row_id, note in rows:
        connection.execute(versions.update().where(versions.c.id == row_id)
                           .values(note=f"Translation of item {note.rsplit(':', 1)[1]}"))
