"""The house's floors, checked from the code's own imports (those inside
functions included): ``kb`` at the bottom imports nothing of ours;
``ingest`` and ``search`` stand beside each other on it; the page
(``webapp``, ``app.py``) and the evaluation harness above them; no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kb", "ingest", "search", "webapp", "evaluation")
# What each floor may import: itself and the floors below it.
ALLOWED = {
    "kb": {"kb"},
    "ingest": {"kb", "ingest"},
    "search": {"kb", "search"},
    "webapp": {"kb", "ingest", "search", "webapp"},
    "evaluation": {"kb", "ingest", "search", "evaluation"},
    "app": {"kb", "ingest", "search", "webapp"},
}


def modules(root: Path = ROOT) -> dict[str, Path]:
    found = {"app": root / "app.py"}
    for pkg in PACKAGES:
        for path in (root / pkg).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project's modules that ``path`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(root)
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def floor(module: str) -> str:
    return module.split(".")[0]


def wrong_floors(g: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{a} -> {b}"
        for a, targets in g.items()
        for b in targets
        if floor(b) not in ALLOWED[floor(a)]
    )


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_each_floor_imports_only_the_floors_below_it():
    assert wrong_floors(graph()) == []


def test_no_circle_of_imports():
    assert circles(graph()) == []


def test_search_never_imports_ingest():
    g = graph()
    assert not [
        a for a, t in g.items() if floor(a) == "search" and any(floor(b) == "ingest" for b in t)
    ]


@pytest.mark.parametrize(
    ("files", "expect"),
    [
        # an import from search into ingest, hidden inside a function
        (
            {"search/a.py": "def f():\n    from ingest import b\n", "ingest/b.py": ""},
            "floors",
        ),
        # a circle made by a relative import inside a function
        (
            {"kb/x.py": "from kb import y\n", "kb/y.py": "def g():\n    from . import x\n"},
            "circle",
        ),
    ],
)
def test_the_checks_catch_what_they_are_for(tmp_path, files, expect):
    (tmp_path / "app.py").write_text("")
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    g = graph(tmp_path)
    if expect == "floors":
        assert wrong_floors(g) == ["search.a -> ingest.b"]
    else:
        assert circles(g) == [["kb.x", "kb.y"]]


# ---------------------------------------------------------------- rooms of a size

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def oversized(root: Path = ROOT) -> list[str]:
    """Production modules over MAX_MODULE_LINES lines and functions over
    MAX_FUNCTION_LINES, as "path" or "path:function (lines)"."""
    out = []
    for _name, path in sorted(modules(root).items()):
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            out.append(f"{path.relative_to(root)} ({lines})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    out.append(f"{path.relative_to(root)}:{node.name} ({n})")
    return out


def test_no_module_or_function_is_too_long():
    assert oversized() == []


def test_the_size_check_catches_a_long_function(tmp_path):
    (tmp_path / "app.py").write_text("")
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "kb" / "long.py").write_text(f"def f():\n{body}")
    assert oversized(tmp_path) == [f"kb/long.py:f ({MAX_FUNCTION_LINES + 1})"]


# ---------------------------------------------------------------- the tests' own house

# What may not be imported from a test module, a conftest or a benchmark:
# the test package itself. Shared helpers live in testsupport/.
TEST_ROOTS = ("tests", "benchmarks")


def imports_of_tests(root: Path = ROOT) -> list[str]:
    """Imports of the test package (``tests``, ``tests.test_app``,
    ``tests.conftest``, a relative import between test modules, or a test
    module imported by its bare name through sys.path) from a file under
    tests/ or benchmarks/, as "path: module"."""
    bare = {p.stem for p in (root / "tests").rglob("*.py")} - {"__init__"}
    out = []
    for top in TEST_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                for name in names:
                    first = name.split(".")[0]
                    if name.startswith(".") or first == "tests" or first in bare:
                        out.append(f"{path.relative_to(root)}: {name}")
    return out


def test_no_test_module_imports_another_and_benchmarks_import_no_test():
    assert imports_of_tests() == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("tests/system/test_a.py", "from tests.page.test_b import HOSTILE\n"),
        ("tests/unit/test_a.py", "def f():\n    from tests.conftest import needs_testdata\n"),
        ("tests/page/test_a.py", "from . import test_b\n"),
        ("tests/test_a.py", "import test_b\n"),
        ("benchmarks/app.py", "from tests.apprunner import serve_app\n"),
    ],
)
def test_the_test_import_check_catches_what_it_is_for(tmp_path, path, text):
    for folder in ("tests/page", "tests/system", "tests/unit", "benchmarks"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "tests" / "page" / "test_b.py").write_text("HOSTILE = 1\n")
    (tmp_path / "tests" / "conftest.py").write_text("")
    (tmp_path / "tests" / "system" / "test_ok.py").write_text("from testsupport import fakes\n")
    (tmp_path / path).write_text(text)
    found = imports_of_tests(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{path}: "), found


# ---------------------------------------------------------------- every module tested directly

# Production modules no test needs to import, each with the reason.
NOT_IMPORTED = {"app": "the ten-line entry point, run as a file (AppTest.from_file, streamlit run)"}


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def untested(root: Path = ROOT) -> list[str]:
    """Production modules that no test module (tests/**/test_*.py) imports
    directly, at any depth of its code; a package whose __init__.py holds
    only its docstring has nothing to import."""
    mods = modules(root)
    imported: set[str] = set()
    for path in (root / "tests").rglob("test_*.py"):
        imported |= imports(path, "tests.module", set(mods))
    return sorted(
        name
        for name, path in mods.items()
        if name not in imported and name not in NOT_IMPORTED and not _only_a_docstring(path)
    )


def test_every_production_module_is_imported_by_a_test():
    assert untested() == []


def test_the_untested_check_catches_a_module_no_test_imports(tmp_path):
    (tmp_path / "app.py").write_text("")
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text('"""Only a docstring."""\n')
    (tmp_path / "kb" / "a.py").write_text("A = 1\n")
    (tmp_path / "kb" / "b.py").write_text("from kb.a import A\n")  # imported only through b
    (tmp_path / "search" / "__init__.py").write_text("from kb.a import A\n")
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_b.py").write_text("def test():\n    from kb import b\n")
    assert untested(tmp_path) == ["kb.a", "search"]
