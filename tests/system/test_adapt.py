"""python -m ingest adapt: training on pairs mined from the index writes a
new model folder named by its fingerprint, with its ONNX query encoder,
which an index and a searcher then use; no index or too few pairs are
clear errors; the pairs hold no text of the evaluation questions."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ingest.adapt.pairs import mine_pairs
from ingest.adapt.run import RECORD_FILE, adapt, adapted_fingerprint, corpus_digest, pairs_digest
from ingest.adapt.train import AdaptOptions
from kb.choices import PairKind
from kb.errors import IndexMissingError, TooFewPairsError
from kb.model.bars import BARS_KEY, BASE_BARS, read_bars
from kb.model.convert import MARKER_FILE
from kb.settings import PROJECT_ROOT, Settings
from kb.text import dictionaries
from testsupport.adaptcorpus import write_law
from testsupport.dictd import write_dictd
from testsupport.fakes import FakeEmbedder

pytestmark = pytest.mark.slow  # second lane: fine-tunes a model

QUICK = AdaptOptions(steps=2, batch_size=4, min_pairs=8, threads=1, max_seq_length=32)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A two-layer BERT of random (seeded) weights with e5's tokenizer, as a
    sentence-transformers folder with the query/passage prompts."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from kb.model.convert import ensure_default_model

    root = tmp_path_factory.mktemp("tiny-model")
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_default_model(Settings().model_cache)))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)  # the same random weights in every run: a reproducible test
    BertModel(config, add_pooling_layer=False).save_pretrained(root / "hf")
    tokenizer.save_pretrained(root / "hf")
    st = SentenceTransformer(
        modules=[
            Transformer(str(root / "hf"), max_seq_length=64),
            Pooling(16, "mean"),
            Normalize(),
        ],
        device="cpu",
        prompts={"query": "query: ", "passage": "passage: ", "document": "passage: "},
    )
    st.save(str(root / "st"), create_model_card=False)
    return root / "st"


@pytest.fixture(scope="module")
def law(tmp_path_factory, tiny_model) -> Settings:
    """The small law indexed with the fake embedder; the tiny model configured."""
    from ingest.pipeline import build_index

    root = tmp_path_factory.mktemp("adapt-law")
    settings = Settings(
        corpus_dir=write_law(root / "corpus"),
        index_dir=root / "index",
        cache_dir=root / "cache",
        model=str(tiny_model),
        workers=1,
    )
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    return settings


# The English–Finnish dictionary the gloss pairs read: two of the law's headings
ENG_FIN = {
    "scope": "scope <n>\nsoveltamisala\n",
    "direct": "direct <adj>\nsuora\n",
    "procurement": "procurement <n>\nhankinta\n",
}


@pytest.fixture(scope="module")
def eng_fin(tmp_path_factory) -> Path:
    """A folder holding the tiny dictionary (each test sets KB_DICT_DIR anew)."""
    folder = tmp_path_factory.mktemp("dictd")
    write_dictd(folder, "eng-fin", ENG_FIN)
    return folder


@pytest.fixture(scope="module")
def adapted(law, eng_fin):
    """The law's adaptation of the tiny model, two steps, with the tiny
    dictionary (whatever the machine has installed)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(dictionaries.DICT_DIR_ENV, str(eng_fin))
        return adapt(law, QUICK)


def weights(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_a_few_steps_write_a_fingerprinted_model_with_its_query_encoder(
    law, adapted, tiny_model, eng_fin, monkeypatch
):
    from kb.index.folder import load_generation
    from kb.model.convert import model_fingerprint
    from kb.model.embedder import onnx_export_current

    chunks = load_generation(law.index_dir).chunks
    digest = corpus_digest(chunks)
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(eng_fin))
    mined = pairs_digest(mine_pairs(chunks, QUICK.kinds, QUICK.seed))
    fingerprint = adapted_fingerprint(model_fingerprint(tiny_model), digest, QUICK, mined)
    assert adapted.path == law.model_cache / f"{tiny_model.name}-adapted-{fingerprint}"
    assert adapted.fingerprint == model_fingerprint(adapted.path) and not adapted.reused
    marker = json.loads((adapted.path / MARKER_FILE).read_text())
    assert marker["fingerprint"] == fingerprint and marker["corpus"]["digest"] == digest
    assert marker["adapted_from"]["path"] == str(tiny_model)
    assert marker["options"]["steps"] == 2 and "threads" not in marker["options"]
    record = json.loads((adapted.path / RECORD_FILE).read_text())
    # gloss: "scope" (1 §) and "direct procurement" (6 §), each to both versions
    assert record["pairs"] == {"heading": 12, "translation": 12, "cloze": 12, "gloss": 4}
    assert len(record["losses"]) == 2 and record["generation"].startswith("gen-")
    # 24 query-like pairs hold out too few to carry the bars over: the base's stay.
    assert record["trained_on"] == 40 and not record["calibration"]["carried"]
    assert record[BARS_KEY] == BASE_BARS.as_dict()
    before, after = weights(tiny_model), weights(adapted.path)
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert any("encoder.layer" in k for k in changed)  # the transformer learnt
    assert not any("word_embeddings" in k for k in changed)  # the token table stayed frozen
    assert onnx_export_current(adapted.path) and adapted.query_encoder
    from sentence_transformers import SentenceTransformer

    # Trained on 32 tokens, it still reads as far as its base (64).
    assert SentenceTransformer(str(adapted.path)).max_seq_length == 64
    assert list(law.model_cache.glob(".adapt-*")) == []  # no temporary folder left


def test_the_same_adaptation_is_reused_and_other_settings_make_another(
    law, adapted, eng_fin, monkeypatch
):
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(eng_fin))
    again = adapt(law, replace(QUICK, threads=2, min_pairs=4))  # neither changes the model
    assert again.reused and again.path == adapted.path and again.fingerprint == adapted.fingerprint
    # An adapted model configured: adapting again starts from its base.
    chained = adapt(replace(law, model=str(adapted.path)), QUICK)
    assert chained.reused and chained.path == adapted.path
    base, digest = "base", "corpus"
    one = adapted_fingerprint(base, digest, QUICK)
    # Without the dictionary the pairs differ (no gloss): another model.
    assert one != adapted_fingerprint(base, digest, QUICK, "other pairs")
    assert one != adapted_fingerprint(base, digest, replace(QUICK, learning_rate=1e-4))
    assert one != adapted_fingerprint(base, digest, replace(QUICK, kinds=(PairKind.CLOZE,)))
    assert one != adapted_fingerprint(base, "other corpus", QUICK)
    assert one != adapted_fingerprint("other base", digest, QUICK)


def test_an_index_built_with_the_adapted_model_searches_with_its_onnx_export(law, adapted):
    from ingest.pipeline import build_index
    from kb.index.folder import read_manifest
    from search.encoders import OnnxQueryEmbedder, load_query_embedder
    from search.modes import Highlighting
    from search.searcher import Searcher

    settings = replace(law, model=str(adapted.path), index_dir=law.index_dir.with_name("adapted"))
    build_index(settings)
    assert read_manifest(settings.index_dir)["model"]["fingerprint"] == adapted.fingerprint
    encoder = load_query_embedder(settings)
    assert isinstance(encoder, OnnxQueryEmbedder)
    from kb.model.embedder import load_embedder

    # The export holds the adapted weights: query vectors as torch's (but for the
    # int8 token table, which moves a 16-dimensional model more than e5: the
    # Swedish query's cosine was 0.966 in one run, above 0.97 in the others).
    queries = ["Milloin suorahankinta on sallittu?", "När är direktupphandling tillåten?"]
    torch_vectors = load_embedder(settings).embed_queries(queries)
    assert np.min(np.sum(encoder.embed_queries(queries) * torch_vectors, axis=1)) > 0.95
    searcher = Searcher.load(settings.index_dir, settings, encoder)
    assert searcher.bars == read_bars(adapted.path) == BASE_BARS  # the model's own, read
    # The adapted model configured, but an embedder of another model: not its bars.
    other = Searcher.load(law.index_dir, replace(law, model=str(adapted.path)), FakeEmbedder())
    assert other.bars is None
    query = "Suorahankinta on sallittu vain poikkeuksellisissa tilanteissa"
    hits = searcher.search(query, k=3, mode="hybrid", highlight=Highlighting.NONE)
    assert any("6 § Suorahankinta" in h.section for h in hits)
    # Without a current export, the adapted model still answers, through torch.
    marker = adapted.path / "onnx" / "kb_onnx.json"
    kept = marker.read_text()
    marker.write_text("{}")
    try:
        assert not isinstance(load_query_embedder(settings), OnnxQueryEmbedder)
    finally:
        marker.write_text(kept)


def test_an_index_of_the_adapted_model_keeps_it_with_no_setting(law, adapted, tmp_path):
    """Built once with the adapted model, the index is searched and updated
    with it where no model is configured (kb/model/indexed.py)."""
    import shutil

    from ingest.pipeline import build_index
    from kb.index.folder import read_manifest
    from search.searcher import Searcher

    corpus = shutil.copytree(law.corpus_dir, tmp_path / "law-corpus")
    first = replace(
        law, model=str(adapted.path), corpus_dir=corpus, index_dir=tmp_path / "law-index"
    )
    build_index(first)
    plain = replace(first, model=None)  # no KB_MODEL
    searcher = Searcher.load(plain.index_dir, plain)
    assert searcher.embedder.fingerprint == adapted.fingerprint
    assert searcher.bars == read_bars(adapted.path)
    (corpus / "uusi.fi.md").write_text("# 9 § Uusi pykälä\n\nUusi teksti.\n", encoding="utf-8")
    report = build_index(plain)
    assert report.embedded == 1  # only the new file: the adapted model stayed
    assert read_manifest(plain.index_dir)["model"]["fingerprint"] == adapted.fingerprint
    # The adapted folder gone: an index of another model, as with KB_MODEL unset before.
    from kb.errors import IndexMismatchError

    moved = adapted.path.rename(tmp_path / "elsewhere")  # out of the model cache
    try:
        with pytest.raises(IndexMismatchError):
            Searcher.load(plain.index_dir, plain)
    finally:
        moved.rename(adapted.path)


def test_adapt_use_re_embeds_the_index_and_build_model_base_goes_back(
    law, adapted, eng_fin, tmp_path, monkeypatch, capsys
):
    import shutil

    from ingest.__main__ import main
    from kb.index.folder import read_manifest
    from kb.model.convert import ensure_default_model, model_fingerprint

    index = shutil.copytree(law.index_dir, tmp_path / "law-index")
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(eng_fin))
    monkeypatch.setenv("KB_CACHE", str(law.cache_dir))
    monkeypatch.setenv("KB_MODEL", law.model)
    argv = ["adapt", "-q", "--index", str(index), "--steps", "2", "--batch-size", "4"]
    argv += ["--threads", "1", "--max-seq-length", "32", "--min-pairs", "8", "--use"]
    assert main(argv) == 0
    assert "already adapted, reused" in capsys.readouterr().out
    assert read_manifest(index)["model"]["fingerprint"] == adapted.fingerprint
    monkeypatch.delenv("KB_MODEL")
    assert main(["--index", str(index), "--corpus", str(law.corpus_dir), "-q"]) == 0
    assert "nothing re-embedded" in capsys.readouterr().out  # the adapted model kept
    nowhere = str(tmp_path / "no-such-model")
    assert main(["--index", str(index), "--corpus", str(law.corpus_dir), "--model", nowhere]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert read_manifest(index)["model"]["fingerprint"] == adapted.fingerprint  # untouched
    monkeypatch.setenv("KB_CACHE", str(Settings().cache_dir))  # where the bundled model is
    assert main(["--index", str(index), "--corpus", str(law.corpus_dir), "--model", "base"]) == 0
    base = model_fingerprint(ensure_default_model(Settings().model_cache))
    assert read_manifest(index)["model"]["fingerprint"] == base


def test_no_index_and_too_few_pairs_are_clear_errors(law, tmp_path):
    settings = replace(law, cache_dir=tmp_path / "cache")
    with pytest.raises(IndexMissingError):
        adapt(replace(settings, index_dir=tmp_path / "nothing"), QUICK)
    with pytest.raises(TooFewPairsError, match="36 training pairs, fewer than the 100"):
        adapt(settings, replace(QUICK, min_pairs=100))
    assert not settings.model_cache.exists()  # nothing written, the base model stays


def test_the_command_line_reports_the_folder_and_errors(law, adapted, eng_fin, monkeypatch, capsys):
    from ingest.__main__ import main

    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(eng_fin))
    monkeypatch.setenv("KB_INDEX", str(law.index_dir))
    monkeypatch.setenv("KB_CACHE", str(law.cache_dir))
    monkeypatch.setenv("KB_MODEL", law.model)
    argv = ["adapt", "-q", "--steps", "2", "--batch-size", "4", "--threads", "1"]
    assert main([*argv, "--max-seq-length", "32", "--min-pairs", "8"]) == 0
    out = capsys.readouterr().out
    assert (
        "40 pairs (12 heading, 12 translation, 12 cloze, 4 gloss); already adapted, reused" in out
    )
    assert f"adapted model at {adapted.path} (fingerprint {adapted.fingerprint})" in out
    assert '"no relevant passage" below a cosine of 0.815 (0.790 for a question in' in out
    assert main([*argv, "--min-pairs", "1000"]) == 2
    assert "fewer than the 1000 needed" in capsys.readouterr().err
    assert main([*argv, "--kinds", "heading,riddles"]) == 2
    assert "unknown pair kind 'riddles'" in capsys.readouterr().err
    from ingest.adapt.cli import run  # the kb-adapt script: the same, without "adapt"

    assert run([*argv[1:], "--kinds", "heading,riddles"]) == 2
    assert "unknown pair kind 'riddles'" in capsys.readouterr().err
    monkeypatch.setenv("KB_INDEX", str(law.index_dir.with_name("nothing")))
    assert main(argv) == 3
    assert "no index has been built" in capsys.readouterr().err


def eval_questions() -> list[str]:
    out = []
    for path in sorted((PROJECT_ROOT / "eval").glob("*.qrels.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["query"])
    return out


def normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@pytest.mark.slow
def test_the_pairs_of_the_act_hold_no_evaluation_question(tmp_path, monkeypatch):
    """The Act as dropped in (both PDFs and the theme page), indexed with
    the fake embedder: no question of eval/*.qrels.jsonl is a pair's text
    or inside one. Pairs come from the corpus alone (and, for the English
    glosses, the dictionary where it is installed)."""
    from ingest.adapt.pairs import count_kinds
    from ingest.pipeline import build_index
    from kb.index.folder import load_generation
    from testsupport.testdata import finlex_corpus, needs_testdata

    (tmp_path / "act").mkdir()
    corpus = finlex_corpus(tmp_path / "act")
    theme = needs_testdata("..", "seed", "temagruppen-innovationer.sv.txt")
    (corpus / theme.name).write_bytes(theme.read_bytes())
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", workers=1)
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(dictionaries.DEFAULT_DICT_DIR))
    pairs = mine_pairs(load_generation(settings.index_dir).chunks)
    kinds = count_kinds(pairs)
    expected = ["heading", "translation", "cloze"]
    if dictionaries.available()[("en", "fi")]:  # make dictionaries: the glosses too
        expected.append("gloss")
    assert all(kinds.get(k, 0) > 100 for k in expected), kinds
    texts = {normal(t) for p in pairs for t in p.texts()}
    questions = [normal(q) for q in eval_questions()]
    assert len(questions) > 300
    assert [q for q in questions if q in texts] == []  # no question is a pair's text
    # ... nor inside one (but "80 §" and "§ 81": a number is in the Act anyway)
    joined = " | ".join(sorted(texts))
    worded = [q for q in questions if not q.isdigit()]
    assert len(worded) == len(questions) - 2
    assert [q for q in worded if f" {q} " in f" {joined} "] == []


@pytest.mark.slow
@pytest.mark.model
def test_the_real_model_adapts_and_its_index_searches_densely(tmp_path):
    """e5-small adapted in two steps on the small law: the weights move,
    the index built with it answers a dense query with the right section
    through the adapted model's ONNX query encoder."""
    from ingest.pipeline import build_index
    from kb.model.convert import ensure_default_model
    from search.encoders import OnnxQueryEmbedder, load_query_embedder
    from search.modes import Highlighting
    from search.searcher import Searcher

    base = ensure_default_model(Settings().model_cache)
    settings = Settings(
        corpus_dir=write_law(tmp_path / "corpus"),
        index_dir=tmp_path / "index",
        cache_dir=tmp_path / "cache",
        model=str(base),
        workers=1,
    )
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    report = adapt(settings, replace(QUICK, max_seq_length=128))
    before, after = weights(base), weights(report.path)
    assert not np.array_equal(
        before["encoder.layer.0.attention.self.query.weight"],
        after["encoder.layer.0.attention.self.query.weight"],
    )
    adapted = replace(settings, model=str(report.path), index_dir=tmp_path / "adapted")
    build_index(adapted)
    encoder = load_query_embedder(adapted)
    assert isinstance(encoder, OnnxQueryEmbedder)
    searcher = Searcher.load(adapted.index_dir, adapted, encoder)
    hits = searcher.search(
        "När får man förhandla direkt med en leverantör?",
        k=3,
        mode="dense",
        highlight=Highlighting.NONE,
    )
    assert hits and hits[0].section[-1] in ("6 § Direktupphandling", "6 § Suorahankinta")
