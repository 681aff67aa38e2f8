"""Importers: turn other systems' data into cxport records (NDJSON, `ingest.md`).

- `twcs`: the Kaggle "Customer Support on Twitter" CSV (`import_twcs`).
"""
