"""A real PostgreSQL 16 with pgvector for the tests, from the pgserver wheel
(binaries and the vector extension inside it, nothing downloaded).

It listens on a Unix socket in its data folder only (no TCP). PostgreSQL
will not run as root: pgserver then runs it as the system user "pgserver",
which it creates with useradd, and opens the folders above the data folder
to that user (chmod o+rx). One server per test session; each test gets a
database of its own.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_names = itertools.count()


class PgTestServer:
    def __init__(self, pgdata: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(pgdata, cleanup_mode="delete")
        self.pgdata = pgdata
        self.socket_dir = self.server.get_postmaster_info().socket_dir
        with self.connect() as conn:
            # No fsync: a test server, on a shared machine. A stop "immediate"
            # still loses no commit (the WAL is written, only not flushed).
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("SELECT pg_reload_conf()")

    def connect(self):
        import psycopg

        return psycopg.connect(self.url(), autocommit=True)

    def url(self, database: str = "postgres") -> str:
        parts = urlsplit(self.server.get_uri())
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create_database(self, prefix: str = "kb") -> str:
        """A new empty database; its address."""
        name = f"{prefix}_{next(_names)}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; "immediate" is a crash (no checkpoint, recovery
        at the next start), as a killed machine."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start it again (crash recovery first, after an immediate stop),
        on the same socket; allows more than pgserver's own 10 s."""
        from pgserver._commands import pg_ctl

        args = ["-w", "-t", "120", "-o", '-h ""', "-o", f"-k {self.socket_dir}"]
        args += ["-l", str(self.pgdata / "log"), "start"]
        pg_ctl(args, pgdata=self.pgdata, user=self.server.system_user, timeout=130)

    def cleanup(self) -> None:
        self.server.cleanup()


class PgReplica:
    """A streaming read replica of ``primary``: the same binaries,
    pg_basebackup -R (standby.signal and primary_conninfo over the primary's
    Unix socket), its own data folder and socket, no TCP."""

    def __init__(self, primary: PgTestServer, pgdata: Path) -> None:
        import os

        from pgserver._commands import pg_basebackup

        self.primary, self.pgdata = primary, pgdata
        self.user = primary.server.system_user
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        pgdata.parent.chmod(0o777)  # the server's own user writes the copy there
        args = ["-D", str(pgdata), "-R", "-X", "stream", "-c", "fast"]
        args += ["-h", str(primary.socket_dir), "-U", "postgres"]
        pg_basebackup(args, user=self.user, timeout=120)
        if self.user is None:
            os.chmod(pgdata, 0o700)
        for stale in pgdata.glob(".s.PGSQL.*"):  # the primary's socket lock, copied along
            stale.unlink()
        self.start()

    def start(self) -> None:
        from pgserver._commands import pg_ctl

        args = ["-w", "-t", "120", "-o", '-h ""', "-o", f"-k {self.pgdata}"]
        args += ["-l", str(self.pgdata / "log"), "start"]
        pg_ctl(args, pgdata=self.pgdata, user=self.user, timeout=130)

    def url(self, database: str = "postgres") -> str:
        parts = urlsplit(self.primary.url(database))
        return urlunsplit(parts._replace(query=f"host={self.pgdata}"))

    def stop(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.user)
