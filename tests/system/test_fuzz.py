"""Fuzzing the PDF reader with hypothesis: mutations of the real PDFs in
../shared/testdata/pdf-samples and of generated ones (byte flips,
truncation, inserted and deleted bytes, duplicated objects, huge declared
lengths). Each mutated file must be read or refused with the project's typed
error, within the per-file time limit; never an untyped error, never a hang.

    pytest tests/system/test_fuzz.py                   a few dozen cases (default run)
    pytest -m slow tests/system/test_fuzz.py -s        500 cases, and the figures

Cases the fuzzer found are replayed by test_regressions from
tests/system/fuzz_regressions.json: the seed file and the mutations, so no mutated
copy of a third-party PDF is committed.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.pipeline import UNEXPECTED, extract_many
from kb.errors import ExtractionError
from kb.settings import Settings
from testsupport.pdfgen import encrypt_pdf, make_image_only_pdf, make_pdf
from testsupport.testdata import TESTDATA

pytestmark = pytest.mark.slow  # second lane: fuzzing

REGRESSIONS = Path(__file__).with_name("fuzz_regressions.json")
# Seconds per file. The largest seed (117 pages) takes 4 s to read on an idle
# machine; a limit well above that tells a hang from a busy machine.
FUZZ_TIMEOUT = int(os.environ.get("KB_FUZZ_TIMEOUT", "60"))
GENERATED = ("generated/outline.pdf", "generated/encrypted.pdf", "generated/image-only.pdf")

_OBJECT = re.compile(rb"\d+ \d+ obj\b.*?endobj", re.DOTALL)
_LENGTH = re.compile(rb"/Length \d+")

MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("flip_run"), st.floats(0, 1), st.integers(2, 512), st.integers(0, 2**31)),
    st.tuples(st.just("truncate"), st.floats(0.02, 0.999)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 4096)),
    st.tuples(st.just("duplicate_object"), st.integers(0, 10**6), st.booleans()),
    st.tuples(
        st.just("huge_length"),
        st.integers(0, 10**6),
        st.sampled_from(
            [
                b"99999999999",
                b"2147483648",
                b"-1",
                b"0",
            ]
        ),
    ),  # fmt: skip
)


def mutate(data: bytes, mutations: list) -> bytes:
    """Apply mutations given as JSON-able tuples; positions are fractions of
    the current length, so a recipe replays on the same seed file."""
    for m in mutations:
        kind, args = m[0], m[1:]
        at = (
            int(args[0] * max(len(data) - 1, 0))
            if kind in {"flip", "flip_run", "insert", "delete"}
            else 0
        )
        if kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ args[1]]) + data[at + 1 :]
        elif kind == "flip_run" and data:
            rng = __import__("random").Random(args[2])
            run = bytearray(data[at : at + args[1]])
            for i in range(len(run)):
                run[i] ^= rng.randrange(1, 256)
            data = data[:at] + bytes(run) + data[at + len(run) :]
        elif kind == "truncate":
            data = data[: int(len(data) * args[0])]
        elif kind == "insert":
            data = data[:at] + bytes(args[1]) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + args[1] :]
        elif kind == "duplicate_object":
            objects = list(_OBJECT.finditer(data))
            if objects:
                o = objects[args[0] % len(objects)]
                where = len(data) if args[1] else o.end()
                data = data[:where] + b"\n" + o.group(0) + b"\n" + data[where:]
        elif kind == "huge_length":
            lengths = list(_LENGTH.finditer(data))
            if lengths:
                m_ = lengths[args[0] % len(lengths)]
                data = data[: m_.start()] + b"/Length " + bytes(args[1]) + data[m_.end() :]
    return data


def _json_ready(mutations: list) -> list:
    return [[x.hex() if isinstance(x, bytes) else x for x in m] for m in mutations]


def _from_json(mutations: list) -> list:
    out = []
    for m in mutations:
        kind = m[0]
        if kind == "insert":
            m = [m[0], m[1], bytes.fromhex(m[2])]
        elif kind == "huge_length":
            m = [m[0], m[1], bytes.fromhex(m[2])]
        out.append(tuple(m))
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    """Seed PDFs by name: the generated ones, and pdf-samples when present."""
    root = tmp_path_factory.mktemp("fuzz-seeds")
    outline = make_pdf(
        root / "outline.pdf",
        [["1 Johdanto", "Hankinnat ja innovaatiot."], ["2 Tavoitteet", "Vaikuttavuus."]],
        title="Strategia",
        header="Kansallinen strategia",
        footer=True,
        outline=[("1 Johdanto", 0, 0), ("2 Tavoitteet", 0, 1)],
    )
    out = {
        "generated/outline.pdf": outline.read_bytes(),
        "generated/encrypted.pdf": encrypt_pdf(outline, root / "enc.pdf").read_bytes(),
        "generated/image-only.pdf": make_image_only_pdf(root / "img.pdf").read_bytes(),
    }
    samples = TESTDATA / "pdf-samples"
    if samples.is_dir():
        for pdf in sorted(samples.rglob("*.pdf")):
            out[pdf.relative_to(samples).as_posix()] = pdf.read_bytes()
    return out


def read_mutated(tmp: Path, data: bytes) -> tuple[str, str, float]:
    """(outcome, detail, seconds) for one mutated file, read as a build reads it."""
    path = tmp / "mutated.pdf"
    path.write_bytes(data)
    conf = replace(Settings(), workers=1, file_timeout=FUZZ_TIMEOUT)
    started = time.monotonic()
    value = extract_many([path], conf)[path]
    elapsed = time.monotonic() - started
    if isinstance(value, ExtractionError):
        return "refused", value.reason, elapsed
    return "read", f"{len(value[1])} pages", elapsed


def check(tmp: Path, seed_name: str, data: bytes, mutations: list, log: Counter | None = None):
    outcome, detail, elapsed = read_mutated(tmp, mutate(data, mutations))
    if log is not None:
        log[outcome] += 1
        log["timeout" if "KB_FILE_TIMEOUT" in detail else "in time"] += 1
        log["max_seconds"] = max(log["max_seconds"], elapsed)
    recipe = json.dumps({"seed": seed_name, "mutations": _json_ready(mutations)})
    assert UNEXPECTED not in detail, f"untyped error; add to {REGRESSIONS.name}: {recipe}\n{detail}"
    assert "crashed" not in detail, f"reader crashed; add to {REGRESSIONS.name}: {recipe}"
    assert "KB_FILE_TIMEOUT" not in detail, f"hang; add to {REGRESSIONS.name}: {recipe}"
    return outcome


def _fuzz(n: int, tmp_path: Path, seeds: dict[str, bytes], log: Counter | None = None):
    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=n <= 100,  # the default run is the same every time
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def run(data):
        name = data.draw(st.sampled_from(sorted(seeds)), label="seed")
        mutations = data.draw(st.lists(MUTATION, min_size=1, max_size=4), label="mutations")
        check(tmp_path, name, seeds[name], mutations, log)

    return run


def test_fuzz_default_run(tmp_path, seeds):
    _fuzz(40, tmp_path, seeds)()


@pytest.mark.slow
def test_fuzz_500(tmp_path, seeds):
    log: Counter = Counter()
    started = time.monotonic()
    _fuzz(int(os.environ.get("KB_FUZZ_CASES", "500")), tmp_path, seeds, log)()
    print(
        f"\nfuzz: {log['read'] + log['refused']} cases in {time.monotonic() - started:.0f} s: "
        f"{log['read']} read, {log['refused']} refused with a typed error, "
        f"{log['timeout']} over the time limit, slowest {log['max_seconds']:.1f} s; "
        f"seeds: {len(seeds)} files"
    )


def _regressions() -> list:
    return json.loads(REGRESSIONS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", _regressions(), ids=lambda c: c["id"])
def test_regressions(tmp_path, seeds, case):
    if case["seed"] not in seeds:
        pytest.skip(f"{case['seed']} is absent: ../shared/testdata is not beside this checkout")
    outcome = check(tmp_path, case["seed"], seeds[case["seed"]], _from_json(case["mutations"]))
    assert outcome == case["expect"]
