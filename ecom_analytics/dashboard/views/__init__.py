"""The dashboard pages, one render function per page (Streamlit glue around `shaping`/`charts`)."""
