"""The Streamlit page's entry point; the page itself is the ``webapp`` package.

    streamlit run app.py        (make run does it)

URL parameters: q, mode, lang, doc, kind, k, group, view, ui; the outline
view's document and section.
"""

from webapp.main import main

main()
