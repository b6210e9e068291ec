"""The live generation's manifest, read without loading the index: in the
index folder, or in PostgreSQL where a backend address is set."""

from __future__ import annotations

from pathlib import Path

from kb.index.manifest import Manifest


def live_manifest(index_dir: Path, backend: str = "") -> tuple[str | None, Manifest]:
    """(name, manifest) of the live generation, in the index folder or, when
    ``backend`` is a PostgreSQL address, there; IndexMissingError when none."""
    if backend:
        from kb.index.pgschema import connect, require_live, translated

        with connect(backend) as conn, translated(backend):
            live = require_live(conn, backend, None)
        return live.name, live.manifest
    from kb.index.folder import current_name, read_manifest

    manifest = read_manifest(index_dir)
    return current_name(index_dir), manifest
