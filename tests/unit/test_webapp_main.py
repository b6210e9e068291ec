"""webapp/main.py, the page's frame, run by itself (AppTest.from_function):
the page's language from the URL, the sidebar's choices, and an index that
is missing or broken, with the build offered to editors only."""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from kb.labels import label


@pytest.fixture
def served_on():
    """Set Streamlit's server.address for the test; restored after it."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def _frame():
    from webapp.main import main

    main()


def _page(**params) -> AppTest:
    at = AppTest.from_function(_frame, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_without_an_index_the_operator_is_told_and_offered_the_build(settings, served_on):
    served_on("127.0.0.1")
    at = _page(ui="sv")
    assert not at.exception, at.exception
    assert at.title[0].value == label("sv", "title")
    assert [i.value for i in at.info] == [label("sv", "no_index")]
    assert [b.label for b in at.button] == [label("sv", "build")]
    assert at.selectbox(key="ui").value == "sv" and len(at.selectbox(key="ui").options) == 3
    assert at.radio(key="view").value == "search"


def test_a_broken_index_is_an_error_and_a_reader_gets_no_build(settings, served_on):
    served_on("0.0.0.0")
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    at = _page(ui="fi")
    assert not at.exception, at.exception
    assert len(at.error) == 1 and not at.info
    assert not [b for b in at.button if b.label == label("fi", "build")]
