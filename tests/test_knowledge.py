"""The knowledge base: corpus, embedder, Chroma index, hybrid search, server mode, the search tool, bad input."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from medgym.knowledge import KnowledgeIndexError, corpus, index, search
from medgym.knowledge.chunking import chunk
from medgym.knowledge.embedder import embed
from medgym.knowledge.retrieval import _search

STEMI = "medgym:clinical_diagnosis:cardiology:stemi"


# --- corpus -----------------------------------------------------------------------------------------------


def test_chunks_overlap_and_cover_the_text():
    words = [f"w{i}" for i in range(250)]
    parts = chunk(" ".join(words), size=90, overlap=15)
    assert [p.split()[0] for p in parts] == ["w0", "w75", "w150", "w225"]
    assert parts[0].split()[-15:] == parts[1].split()[:15]
    assert parts[-1].split()[-1] == "w249"
    assert chunk("short text") == ["short text"] and chunk("   ") == []
    with pytest.raises(ValueError, match="overlap"):
        chunk("a b c", size=3, overlap=3)


def test_sources_give_stable_passages_with_context():
    icd = corpus.icd10_passage("E11.9")
    assert icd.id == "icd10cm:E11.9" and "Type 2 diabetes mellitus without complications" in icd.text
    assert "block E08-E13" in icd.text and "chapter 4" in icd.text and "Billable" in icd.text
    from medgym.knowledge import hpo

    marfan = corpus.hpo_disease_passages(hpo.diseases()["OMIM:154700"])
    text = " ".join(p.text for p in marfan)
    assert all(p.doc_id == "hpo:disease:OMIM:154700" and p.id.startswith(p.doc_id + "#") for p in marfan)
    assert "Autosomal dominant inheritance" in text and "Ectopia lentis (HP:0001083" in text
    assert corpus.hpo_disease_passages(hpo.diseases()["OMIM:154700"])[0].text == marfan[0].text  # stable
    seizure = corpus.hpo_term_passage(hpo.terms()["HP:0001250"])
    assert seizure.id == "hpo:term:HP:0001250" and "Definition:" in seizure.text


def test_small_corpus_holds_every_domain_and_the_lab_catalog():
    passages = list(corpus.small_corpus())
    ids = [p.id for p in passages]
    assert any(i.startswith(STEMI) for i in ids)
    assert "medgym:lab:troponin_t_hs" in ids
    assert {p.domain for p in passages} >= {"clinical_diagnosis", "medical_qa"}
    assert all(p.text and p.title and p.source for p in passages)


def test_user_jsonl_skips_and_counts_broken_lines(tmp_path):
    f = tmp_path / "MyCorpus.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "d1", "title": "Takotsubo", "content": "Stress cardiomyopathy with apical ballooning."}),
        "{not json",
        json.dumps({"id": "d2", "contents": "MedCorp style uses contents. " * 80}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "d3", "title": "no content"}),
        "",
        json.dumps({"id": "d4", "content": "Ménière disease: vertigo, tinnitus, hearing loss; 心肌梗死"}),
    ]))
    stats = corpus.UserCorpusStats(str(f))
    passages = list(corpus.user_passages(f, stats))
    assert stats.read == 3 and stats.skipped == 3
    assert any("line 2" in r for r in stats.reasons)
    assert {p.doc_id for p in passages} == {"user:mycorpus:d1", "user:mycorpus:d2", "user:mycorpus:d4"}
    assert len([p for p in passages if p.doc_id == "user:mycorpus:d2"]) > 1  # long text chunked
    with pytest.raises(FileNotFoundError, match="JSONL"):
        list(corpus.user_passages(tmp_path / "missing.jsonl"))


# --- embedder ---------------------------------------------------------------------------------------------


def test_onnx_embedder_matches_sentence_transformers():
    texts = ["Acute pericarditis with pleuritic chest pain", "HbA1c 9.1%", "Ménière disease", "x" * 3000]
    ref = embed(texts)  # the plain sentence-transformers path, as before
    fast = embed(texts, backend="onnx", max_length=256)
    assert ref.shape == fast.shape == (4, 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (ref * fast).sum(1).min() > 0.999
    int8 = embed(texts, backend="onnx-int8", max_length=256)
    assert (ref * int8).sum(1).min() > 0.95
    assert embed([], backend="onnx").shape == (0, 384)
    with pytest.raises(ValueError, match="backend"):
        embed(["a"], backend="tf")


# --- index and search -------------------------------------------------------------------------------------


def test_small_index_is_complete_and_rebuild_adds_nothing(kb):
    unique = {p.id for p in corpus.small_corpus()}
    stats = index.stats(kb)
    assert stats["status"] == "complete" and stats["count"] == len(unique)
    assert stats["embedder"] == "onnx" and stats["bytes_on_disk"] > 0
    report = index.build(list(corpus.small_corpus()), kb, progress=False)
    assert report.added == 0 and report.skipped_existing == len(unique) and report.total == len(unique)


def test_interrupted_build_resumes(tmp_path):
    passages = list(corpus.small_corpus())[:30]
    first = index.build(passages[:12], tmp_path, progress=False)
    second = index.build(passages + passages[:5], tmp_path, progress=False)
    assert first.added == 12
    assert second.added == 18 and second.skipped_existing == 12 and second.duplicates == 5 and second.total == 30


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_finds_the_condition(kb, mode):
    results = search("ST elevation in contiguous leads, rising troponin, primary PCI", k=5, mode=mode)
    assert results and {"id", "source", "score", "title", "text"} <= set(results[0])
    assert any(r["doc_id"] == STEMI for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_filters_by_source_and_domain(kb):
    hpo_only = search("autosomal dominant inheritance", k=8, source="hpo")
    assert hpo_only and all(r["source"] == "hpo" for r in hpo_only)
    diag = search("chest pain", k=8, domain="clinical_diagnosis")
    assert diag and all(r["domain"] == "clinical_diagnosis" for r in diag)
    assert search("chest pain", k=5, source="user:nothing") == []


@pytest.mark.parametrize("query", ["Ménière's disease vertigo", "心肌梗死 胸痛", "chest pain 🫀", "HP:0001250", "E11.9"])
def test_non_ascii_and_code_queries_work(kb, query):
    assert isinstance(search(query, k=3), list)


def test_bad_queries_get_clear_errors(kb):
    with pytest.raises(ValueError, match="empty"):
        search("   ")
    with pytest.raises(ValueError, match="limit is 2,000"):
        search("chest pain " * 50_000)
    with pytest.raises(ValueError, match="must be text"):
        search(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be"):
        search("chest pain", k=0)
    with pytest.raises(ValueError, match="mode"):
        search("chest pain", mode="fuzzy")  # type: ignore[arg-type]


def test_missing_index_names_the_build_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGYM_KB_DIR", str(tmp_path / "nothing"))
    with pytest.raises(KnowledgeIndexError, match="medgym kb build --small"):
        search("chest pain")
    from medgym.tools import ToolError, call_tool

    with pytest.raises(ToolError, match="medgym kb build --small"):
        call_tool("search_knowledge", {"query": "chest pain"})


def test_corrupt_index_gets_a_clear_error(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / index.MANIFEST).write_text("{broken")
    with pytest.raises(KnowledgeIndexError, match="--fresh"):
        search("chest pain", path=str(bad))
    (bad / index.MANIFEST).write_text(json.dumps({"status": "complete"}))
    (bad / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(KnowledgeIndexError, match="cannot be read|--fresh"):
        search("chest pain", path=str(bad))


def test_user_corpus_is_added_and_searchable(kb, tmp_path, capsys):
    from medgym.cli import main

    f = tmp_path / "notes.jsonl"
    f.write_text(json.dumps({"id": "tako", "title": "Takotsubo cardiomyopathy",
                             "content": "Takotsubo cardiomyopathy: transient apical ballooning after emotional stress."})
                 + "\n{oops\n")
    assert main(["kb", "add", str(f), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 broken lines" in out and "added 1 passages" in out
    results = search("apical ballooning after emotional stress", k=3, source="user:notes")
    assert [r["id"] for r in results] == ["user:notes:tako"]
    assert main(["kb", "add", str(tmp_path / "nope.jsonl")]) == 2


def test_search_tool_returns_snippets_and_caches(kb):
    from medgym.env import EncounterEnv
    from medgym.tasks import load_tasks

    env = EncounterEnv(tasks=load_tasks(domain="clinical_diagnosis")[:1], patient_matcher="lexical")
    env.reset(seed=0)
    call = '<tool_call>{"name": "search_knowledge", "arguments": {"query": "pericarditis treatment", "k": 3}}</tool_call>'
    before = _search.cache_info()
    obs, _, _, _, info = env.step(call)
    content = json.loads(info["new_messages"][0]["content"])
    assert len(content["passages"]) == 3
    assert all({"id", "source", "snippet"} <= set(p) and len(p["snippet"]) <= 300 for p in content["passages"])
    assert any(k.startswith("passage:") for k in info["tool_calls"][0]["action_keys"])
    env.step(call)
    after = _search.cache_info()
    assert after.hits >= before.hits + 1 and after.misses == before.misses + 1


def test_cli_search_prints_results(kb, capsys):
    from medgym.cli import main

    assert main(["kb", "search", "pulmonary embolism D-dimer", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. [") and "pulmonary_embolism" in out
    assert main(["kb", "search", "   "]) == 2


# --- server mode ------------------------------------------------------------------------------------------


def test_chroma_server_serves_the_index(kb):
    from medgym.knowledge import server

    local = [r["id"] for r in search("acute pericarditis NSAID colchicine", k=5, mode="dense")]
    process, url = server.start(kb)
    try:
        os.environ["MEDGYM_CHROMA_URL"] = url
        remote = search("acute pericarditis NSAID colchicine", k=5, mode="dense")
        assert [r["id"] for r in remote] == local
        hybrid = search("acute pericarditis NSAID colchicine", k=5)  # BM25 from the local folder, dense from the server
        assert hybrid and hybrid[0]["retrieval"] == "hybrid"
    finally:
        os.environ.pop("MEDGYM_CHROMA_URL", None)
        server.stop(process)
    assert process.poll() is not None
    os.environ["MEDGYM_CHROMA_URL"] = url
    try:
        with pytest.raises(KnowledgeIndexError, match="medgym kb serve"):
            search("pericarditis after the server stopped")
    finally:
        os.environ.pop("MEDGYM_CHROMA_URL", None)


# --- concurrency ------------------------------------------------------------------------------------------


READER = textwrap.dedent("""
    import json, sys, time
    from medgym.knowledge import KnowledgeIndexError, search
    from medgym.knowledge.retrieval import clear_cache
    path, done = sys.argv[1], sys.argv[2]
    outcomes = {"ok": 0, "error": 0}
    import os
    deadline = time.time() + 240
    while time.time() < deadline:
        finished = os.path.exists(done)
        clear_cache()
        try:
            search("chest pain troponin", k=3, path=path)
            outcomes["ok"] += 1
        except KnowledgeIndexError as exc:
            assert "medgym kb build" in str(exc) or "being built" in str(exc) or "--fresh" in str(exc), exc
            outcomes["error"] += 1
        if finished:
            break
        time.sleep(0.2)
    print(json.dumps(outcomes))
""")

BUILDER = textwrap.dedent("""
    import sys
    from medgym.knowledge import corpus, index
    passages = list(corpus.small_corpus())[:120]
    index.build(passages[:60], sys.argv[1], progress=False, batch_size=30)
    index.build(passages, sys.argv[1], progress=False, batch_size=30)
    open(sys.argv[2], "w").write("done")
""")


def test_readers_keep_working_while_a_build_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    path, done = str(tmp_path / "kb"), str(tmp_path / "done")
    builder = subprocess.Popen([sys.executable, "-c", BUILDER, path, done], env=env, stderr=subprocess.PIPE, text=True)
    readers = [subprocess.Popen([sys.executable, "-c", READER, path, done], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    _, err = builder.communicate(timeout=300)
    assert builder.returncode == 0, err
    for r in readers:
        out, err = r.communicate(timeout=300)
        assert r.returncode == 0, err
        outcomes = json.loads(out.strip().splitlines()[-1])
        assert outcomes["ok"] >= 1  # at least the search after the build finished succeeded
    assert index.stats(path)["count"] == 120
