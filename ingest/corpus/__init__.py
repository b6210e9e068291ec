"""The corpus as files and sources.toml: discovery, metadata, adding and removing documents."""
