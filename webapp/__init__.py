"""The Streamlit page's wing: cards, frame, editing forms, PDF serving."""
