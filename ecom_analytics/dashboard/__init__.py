"""The dashboards (the Zeppelin role): a Streamlit app with a page per module of the project.

`warehouse` reads the tables of SPEC 3 and 4 (the embedded warehouse's files, Delta tables
through `delta`, or the Thrift server), `shaping` and `charts` turn them into frames and Altair
charts (pure, unit tested), `views` are the pages, `app` puts them together and `command` is
`ecom dashboard`.
"""
