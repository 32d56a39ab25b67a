"""The evaluation harness: suites from the task store, policy specs, parallel = serial, resume, time-outs, reports."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from medgym import load_tasks
from medgym.domains import load_domains
from medgym.eval import Results, environment_suites, evaluate, resolve_policy
from medgym.eval.policies import model_folder
from medgym.eval.report import table
from medgym.eval.stats import bootstrap_ci, paired_comparison
from medgym.eval.suites import SMOKE_PER_DOMAIN, resolve_suites

DATA = Path(__file__).parent / "data" / "eval"
FAST = {"patient_matcher": "lexical"}


def medgym(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "medgym.cli", *args], capture_output=True, text=True, timeout=timeout)


# --- suites -----------------------------------------------------------------------------------------


def test_environment_suites_come_from_the_task_store():
    suites = environment_suites()
    test = load_tasks(split="test")
    for domain in load_domains():
        ids = {t.id for t in test if t.domain == domain}
        if ids:
            assert set(suites[f"domain:{domain}"].task_ids) == ids
    for specialty in {t.specialty for t in test if t.domain == "clinical_diagnosis"}:
        assert set(suites[f"specialty:{specialty}"].task_ids) == {
            t.id for t in test if t.domain == "clinical_diagnosis" and t.specialty == specialty}
    for task_type in {t.task_type for t in test}:
        assert set(suites[f"type:{task_type}"].task_ids) == {t.id for t in test if t.task_type == task_type}
    heldout = load_tasks(split="heldout")
    assert ("heldout" in suites) == bool(heldout)
    smoke = [next(t for t in test if t.id == i) for i in suites["smoke"].task_ids]
    by_domain = {d: [t for t in smoke if t.domain == d] for d in {t.domain for t in test}}
    assert all(1 <= len(v) <= SMOKE_PER_DOMAIN for v in by_domain.values())
    assert "cardiology" in suites and suites["cardiology"].group == "specialty"


def test_unknown_or_empty_suite_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        resolve_suites("cardiolgy")
    assert "unknown suite 'cardiolgy'" in str(err.value) and "smoke" in str(err.value) and "medqa:" in str(err.value)
    if "heldout" not in environment_suites():
        with pytest.raises(ValueError, match="suite 'heldout' is empty"):
            resolve_suites("heldout")


# --- policy specs -------------------------------------------------------------------------------------


def test_policy_specs_resolve(tmp_path, monkeypatch):
    assert resolve_policy("scripted").kind == "scripted" and resolve_policy("oracle").kind == "oracle"
    spec = resolve_policy("openai:http://127.0.0.1:8000/v1:qwen2.5:7b")
    assert (spec.kind, spec.base_url, spec.model, spec.name) == ("openai", "http://127.0.0.1:8000/v1", "qwen2.5:7b",
                                                                 "openai:qwen2.5:7b")
    assert resolve_policy("openai:https://host.example:9:m").base_url == "https://host.example:9"
    with pytest.raises(ValueError, match="openai:URL:MODEL"):
        resolve_policy("openai:localhost")
    with pytest.raises(ValueError) as err:
        resolve_policy("gpt")
    assert "unknown policy 'gpt'" in str(err.value) and "scripted, oracle, default" in str(err.value)
    monkeypatch.setenv("MEDGYM_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ValueError, match="medgym model build"):
        resolve_policy("default")
    # a model folder, a training run with checkpoints, a LoRA adapter on a local base model
    model = tmp_path / "models" / "default"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    assert (resolve_policy("default").kind, resolve_policy("default").path) == ("hf", str(model))
    before = resolve_policy("default").identity()
    (model / "model.safetensors").write_bytes(b"rebuilt")  # a rebuilt model is another policy for resuming
    assert resolve_policy("default").identity() != before
    run = tmp_path / "run"
    for step in (2, 10, 9):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "config.json").write_text("{}")
    assert model_folder(run).name == "checkpoint-10"
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(model)}))
    spec = resolve_policy(str(adapter))
    assert (spec.path, spec.adapter, spec.name) == (str(model), str(adapter), "adapter")
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "some-org/hub-model"}))
    with pytest.raises(ValueError, match="not a local folder; nothing is downloaded"):
        resolve_policy(str(adapter))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no model"):
        resolve_policy(str(empty))


# --- scores -------------------------------------------------------------------------------------------


def test_bootstrap_interval_is_seeded_and_matches_the_normal_approximation():
    values = [1.0] * 50 + [0.0] * 50
    lo, hi = bootstrap_ci(values, seed=7)
    assert (lo, hi) == bootstrap_ci(values, seed=7) and (lo, hi) != bootstrap_ci(values, seed=8)
    half = 1.96 * (0.25 / 100) ** 0.5  # Wald half-width for p = 0.5, n = 100
    assert lo == pytest.approx(0.5 - half, abs=0.03) and hi == pytest.approx(0.5 + half, abs=0.03)
    assert bootstrap_ci([0.3], seed=1) == (0.3, 0.3)


def test_paired_comparison_counts_discordant_tasks_and_gives_the_exact_mcnemar_p():
    """The p-values are binomial tail sums worked by hand: 6 tasks only a solved, 0 only b: (1/2)^6;
    3 and 3: P(X >= 3) for X ~ Bin(6, 1/2) = (20 + 15 + 6 + 1) / 64."""
    a = [True] * 6 + [False] * 4 + [True] * 2
    b = [False] * 6 + [False] * 4 + [True] * 2
    assert paired_comparison(a, b) == {"a_only": 6, "b_only": 0, "both": 2, "neither": 4, "p_value": 1 / 64}
    a, b = [True] * 3 + [False] * 3, [False] * 3 + [True] * 3
    assert paired_comparison(a, b)["p_value"] == pytest.approx(42 / 64)
    assert paired_comparison([False, True], [False, True])["p_value"] == 1.0  # no discordant task: no evidence
    with pytest.raises(ValueError, match="one outcome per task"):
        paired_comparison([True], [True, False])


@pytest.fixture(scope="module")
def results():
    return evaluate(["scripted", "oracle"], ["clinical_diagnosis", "workup", f"mcq:{DATA / 'mcq.jsonl'}"], limit=4,
                    seed=11, **FAST)


def test_scores_have_intervals_and_n(results):
    oracle = results.cell("oracle", "clinical_diagnosis")
    assert oracle["n"] == 4 and oracle["scores"]["success"] == {"mean": 1.0, "ci": [1.0, 1.0], "n": 4}
    scripted = results.cell("scripted", "clinical_diagnosis")["scores"]
    for metric in ("success", "reward", "safety_violations", "turns", "tool_calls_per_episode", "tool_call_validity",
                   "tokens_per_turn", "tokens_per_episode", "monologue_rate"):
        lo, hi = scripted[metric]["ci"]
        assert lo <= scripted[metric]["mean"] <= hi, metric
    assert scripted["tool_call_validity"]["mean"] == 1.0 and scripted["monologue_rate"]["mean"] == 0.0
    assert scripted["tool_calls_per_episode"]["mean"] > scripted["turns"]["mean"] > 1  # it batches calls
    assert results.cell("scripted", "mcq")["skipped"].startswith("the scripted clinician has no strategy")
    assert results.cell("oracle", "mcq")["scores"]["success"]["mean"] == 1.0
    # the same seed gives the same results
    again = evaluate(["scripted"], ["workup"], limit=4, seed=11, **FAST)
    assert again.cell("scripted", "workup") == results.cell("scripted", "workup")


class Fumbler:
    """The oracle, after one malformed tool call and one call to a tool that does not exist."""

    name = "fumbler"

    def __init__(self):
        from medgym.agents import OraclePolicy

        self.oracle, self.turn = OraclePolicy(), 0

    def reset(self, observation, info):
        self.oracle.reset(observation, info)
        self.turn = 0

    def act(self, observation, info):
        self.turn += 1
        if self.turn == 1:
            return '<tool_call>{"name": "order_ecg", "arguments": </tool_call>'
        if self.turn == 2:
            return '<tool_call>{"name": "order_mri_of_everything", "arguments": {}}</tool_call>'
        return self.oracle.act(observation, info)


def test_validity_and_tokens_per_turn_pool_over_episodes():
    results = evaluate([Fumbler()], ["workup"], limit=3, **FAST)
    episodes = results.episodes
    assert all(e["invalid_calls"] == 2 for e in episodes)
    scores = results.cell("fumbler", "workup")["scores"]
    valid = sum(e["tool_calls"] for e in episodes)
    assert scores["tool_call_validity"]["mean"] == pytest.approx(valid / (valid + 6))
    assert scores["tokens_per_turn"]["mean"] == pytest.approx(
        sum(e["tokens_per_episode"] for e in episodes) / sum(e["turns"] for e in episodes))
    lo, hi = scores["tool_call_validity"]["ci"]
    assert lo <= scores["tool_call_validity"]["mean"] <= hi < 1.0
    assert scores["success"]["mean"] == 1.0 and scores["monologue_rate"]["mean"] == 0.0


def test_tables_mark_the_best_and_average_over_suites(results):
    t = table(results, "success")
    assert t["columns"] == ["clinical_diagnosis", "workup", "mcq", "average"]
    assert t["rows"]["oracle"]["clinical_diagnosis"]["best"] and t["rows"]["oracle"]["average"]["text"] == "1.00"
    # scripted was scored on 2 of the 3 suites: its average is shown but not ranked against a full one
    assert "(2 of 3 suites)" in t["rows"]["scripted"]["average"]["text"]
    assert not any(row["average"].get("best") for row in t["rows"].values())
    reward = table(results, "reward")  # the oracle's ideal work-up earns the efficiency term in full
    assert reward["rows"]["oracle"]["workup"]["best"] and not reward["rows"]["scripted"]["workup"].get("best")
    assert t["rows"]["scripted"]["mcq"]["text"] == "n/a"
    tokens = table(results, "tokens_per_turn")  # no better direction: nothing marked
    assert not any(c.get("best") for row in tokens["rows"].values() for c in row.values())
    md = results.markdown()
    assert "| policy | clinical_diagnosis | workup | mcq | average |" in md and "**1.00 [1.00, 1.00] n=4**" in md
    assert "mcq: 3 of 5 records" in md and "not evaluated (the scripted clinician" in md
    page = results.html()
    assert 'data-metric="success"' in page and 'class="best"' in page and "<script" not in page
    charts = results.charts_html()
    assert "plotly" in charts.lower() and "clinical_diagnosis" in charts and "success by domain" in charts


def test_results_save_and_load(results, tmp_path):
    files = results.save(tmp_path)
    assert sorted(p.name for p in files.values()) == ["charts.html", "report.html", "report.md", "results.json"]
    loaded = Results.load(tmp_path)
    assert loaded.cells == json.loads(json.dumps(results.cells)) and len(loaded.episodes) == len(results.episodes)


# --- scale and reproducibility -------------------------------------------------------------------------


def _strip(results):
    return sorted(({k: v for k, v in e.items() if k != "elapsed_s"} for e in results.episodes),
                  key=lambda e: (e["policy"], e["suite"], e["item"]))


def test_parallel_workers_give_the_serial_results():
    kwargs = dict(policies=["scripted", "oracle"], suites=["cardiology", f"medqa:{DATA / 'medqa_4options.jsonl'}"],
                  limit=3, seed=5, **FAST)
    serial = evaluate(**kwargs)
    parallel = evaluate(**kwargs, workers=2)
    assert _strip(parallel) == _strip(serial) and parallel.cells == serial.cells


@pytest.mark.slow
def test_ray_gives_the_serial_results():
    ray = pytest.importorskip("ray", reason="Ray is the optional extra medgym[ray]")
    kwargs = dict(policies=["scripted"], suites=["cardiology"], limit=3, seed=4, **FAST)
    os.environ.setdefault("RAY_agent_register_timeout_ms", "120000")
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}})
    except Exception as exc:  # noqa: BLE001 - Ray's own start-up failure, not the harness's
        ray.shutdown()
        pytest.skip(f"a local Ray cluster did not start on this machine: {exc}")
    try:
        on_ray = evaluate(**kwargs, ray=True, workers=2)
    finally:
        ray.shutdown()
    assert _strip(on_ray) == _strip(evaluate(**kwargs))


def test_an_interrupted_evaluation_resumes_from_finished_episodes(tmp_path):
    out = tmp_path / "eval"
    # 30 episodes: enough that the kill lands part-way even when this process is slow to poll (a busy machine)
    args = ["eval", "--policy", "scripted", "--suite", "clinical_diagnosis", "--limit", "30", "--patient-matcher",
            "lexical", "--out", str(out), "--seed", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "medgym.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    episodes = out / "episodes.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if episodes.exists() and len(episodes.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    finished = len(episodes.read_text().splitlines())
    assert 3 <= finished < 30, "the run was not interrupted part-way"
    with open(episodes, "a") as f:
        f.write('{"policy": "scripted", "suite": "clinical_di')  # a line torn by the kill
    resumed = medgym(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{30 - finished} episodes played" in resumed.stderr
    whole = evaluate("scripted", "clinical_diagnosis", limit=30, seed=2, **FAST)
    assert _strip(Results.load(out)) == _strip(whole)
    other = medgym("eval", "--policy", "scripted", "--suite", "workup", "--limit", "1", "--out", str(out), "--seed", "3")
    assert other.returncode == 2 and "--overwrite" in other.stderr


class _SlowEndpoint(BaseHTTPRequestHandler):
    requests = 0

    def do_POST(self):  # noqa: N802 - http.server's naming
        type(self).requests += 1
        time.sleep(1.0)  # longer than the client's time-out
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def slow_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowEndpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


class EndpointPolicy:
    """Asks an OpenAI-compatible endpoint with the real `openai` client (short time-out, no client retries)."""

    name = "endpoint"

    def __init__(self, base_url):
        import openai

        self.client = openai.OpenAI(base_url=base_url, api_key="none", timeout=0.3, max_retries=0)

    def reset(self, observation, info):
        self.messages = list(info["messages"])

    def act(self, observation, info):
        reply = self.client.chat.completions.create(model="m", messages=self.messages)
        return reply.choices[0].message.content


def test_endpoint_time_outs_are_retried_then_recorded_as_failed(slow_endpoint):
    _SlowEndpoint.requests = 0
    results = evaluate([EndpointPolicy(slow_endpoint)], [f"mcq:{DATA / 'mcq.csv'}"], retries=2, retry_wait_s=0.01)
    cell = results.cell("endpoint", "mcq")
    assert cell["n"] == 2 and cell["failed"] == 2 and cell["scores"]["success"]["mean"] == 0.0
    assert _SlowEndpoint.requests == 2 * 3  # each episode: the first try and two retries
    assert all(e["attempts"] == 3 and "APITimeoutError" in e["error"] for e in results.episodes)
    assert "2 of 2 episodes failed" in results.markdown()


# --- the command ----------------------------------------------------------------------------------------


def test_cli_eval_prints_json_with_intervals(tmp_path):
    out = medgym("eval", "--policy", "oracle", "--policy", "scripted", "--suite", "workup", "--suite",
                 str(DATA / "medmcqa_dev.json"), "--limit", "2", "--json", "--patient-matcher", "lexical", "--out",
                 str(tmp_path), "--quiet")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    cell = next(c for c in data["results"] if c["policy"] == "oracle" and c["suite"] == "workup")
    assert cell["scores"]["success"]["ci"] == [1.0, 1.0] and cell["n"] == 2
    assert {"tool_call_validity", "tool_calls_per_episode"} <= set(cell["scores"])
    mcqa = next(s for s in data["suites"] if s["name"] == "medmcqa")
    assert mcqa["items"] == 2 and mcqa["benchmark"]["skipped"] == 2
    assert (tmp_path / "report.html").exists() and (tmp_path / "charts.html").exists()
    bad = medgym("eval", "--policy", "oracle", "--suite", "nope")
    assert bad.returncode == 2 and "Valid suites" in bad.stderr
