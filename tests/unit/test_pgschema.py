"""kb/index/pgschema.py, its pure helpers (no server): addresses without
passwords, tsquery text that no query can add an operator to, chunk rows."""

from __future__ import annotations

import pytest

from kb.index.pgschema import CHUNK_COLUMNS, chunk_from_row, chunk_row, redact, tsquery_text
from testsupport.records import chunk


def test_redact_hides_the_password_only():
    assert redact("postgresql://kb:s3cret@db.example:5432/kb") == (
        "postgresql://kb:***@db.example:5432/kb"
    )


@pytest.mark.parametrize(
    "url",
    ["postgresql://kb@localhost/kb", "postgresql:///kb?host=/run/postgresql", "postgresql://h/db"],
)
def test_redact_leaves_an_address_without_password_as_it_is(url):
    assert redact(url) == url


def test_redact_never_shows_an_unparsable_address():
    assert redact("postgresql://kb:s3cret@[::1/kb") == "(unparsable address)"  # bad IPv6


def test_redact_hides_a_password_given_as_a_query_parameter():
    assert "s3cret" not in redact("postgresql://kb@db.example/kb?password=s3cret")


def test_tsquery_text_ors_plain_words_and_drops_the_rest():
    assert tsquery_text(["hankinta", "upphandling"]) == "'hankinta' | 'upphandling'"
    assert tsquery_text(["a&b", "x'y", "!", "ok", "c | d"]) == "'ok'"
    assert tsquery_text([]) == ""


def test_chunk_rows_round_trip():
    c = chunk("laki-fi", ("1 luku", "2 § Tavoitteet"), "Tekstiä.", ordinal=2, lang="fi", group="g")
    row = chunk_row(c)
    assert len(row) == len(CHUNK_COLUMNS)
    assert row[CHUNK_COLUMNS.index("grp")] == "g"
    back = chunk_from_row(list(row[:10]) + [list(c.section)] + list(row[11:]))
    assert back == c and isinstance(back.section, tuple)
