"""Fetching the official documents: downloads, web pages, repository items, the lock file."""
