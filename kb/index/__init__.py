"""The index format: the folder's generations and manifest, the PostgreSQL schema."""
