"""ingest/__init__.py: its names are loaded when first used, so that
``python -m ingest`` can speak before numpy and the pipeline are imported;
each name is the object of the module that defines it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import ingest
from kb.settings import PROJECT_ROOT


def test_importing_the_package_loads_neither_numpy_nor_the_pipeline():
    code = "import sys, ingest; print(sorted({'numpy', 'ingest.pipeline'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("name", ingest.__all__)
def test_each_name_is_the_one_its_module_defines(name):
    module = importlib.import_module(ingest._WHERE[name])
    assert getattr(ingest, name) is getattr(module, name)


def test_all_lists_every_lazy_name():
    assert sorted(ingest.__all__) == sorted(ingest._WHERE)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ingest.nothing_here  # noqa: B018
