"""The notebook widgets driven from Python the way a person drives them: set values, click buttons."""

from __future__ import annotations

import math
from typing import Literal

import pytest
import yaml

pytest.importorskip("ipywidgets")

from medgym.agents import ScriptedPolicy, play  # noqa: E402
from medgym.env import EncounterEnv  # noqa: E402
from medgym.rewards import PRESETS, score  # noqa: E402
from medgym.tasks import get_task, load_tasks  # noqa: E402
from medgym.tools import ToolSpec  # noqa: E402
from widgets import EncounterPlayer, RewardLab, TrainingDashboard  # noqa: E402
from widgets.forms import ToolForm  # noqa: E402
from widgets.session import AgentRun, Trajectory, collect, load_trajectories, save_trajectories  # noqa: E402

PERICARDITIS = "cardiology-acute_pericarditis-003"


def text(html: str) -> str:
    """What a person reads in an HTML widget."""
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", " ", html))

STEMI = "cardiology-stemi-000"


@pytest.fixture()
def player():
    return EncounterPlayer(task_id=PERICARDITIS, patient_matcher="lexical")


def order(player, tool, **fields):
    player.tool_picker.value = tool
    for name, value in fields.items():
        player.tool_form.fields[name].widget.value = value
    player.run_button.click()


# --- playing ---------------------------------------------------------------------------------------------


def test_a_clinician_asks_orders_and_submits(player):
    card = player.card.value
    assert "54-year-old man" in card and "sharp chest pain" in card and "38.3 °C" in card
    assert PERICARDITIS not in card  # the card never names the case (its id holds the diagnosis)

    player.ask_text.value = "Does the pain go anywhere else?"
    player.ask_button.click()
    assert "DOCTOR: Does the pain go anywhere else?" in player.transcript
    assert "PATIENT:" in player.transcript and player.ask_text.value == ""

    order(player, "order_lab", test="troponin_t_hs")
    html = player.conversation.value
    assert "High-sensitivity cardiac troponin T" in html and "ng/L" in html and "&lt;=14 ng/L" in html
    assert "Order lab: High-sensitivity cardiac troponin T" in html  # the order in clinical words

    order(player, "order_imaging", study="echocardiogram")
    assert "Findings:" in player.conversation.value and "Impression:" in player.conversation.value

    player.submit_form.fields["diagnosis"].widget.value = "Acute pericarditis"
    player.submit_form.fields["icd10_code"].widget.value = "I30.9"
    player.submit_button.click()
    result = player.result
    assert result["success"] is True and result["terms"]["outcome"] == 1.0
    assert result["total"] == pytest.approx(sum(result["weights"][k] * v for k, v in result["terms"].items() if k in result["weights"]))
    end = player.end.value
    assert "Correct · score" in end and "Acute pericarditis (ICD-10-CM I30.9)" in end
    assert "Reward breakdown" in end and "Rationale" in end and get_task(PERICARDITIS).rationale[:40] in end
    assert player.submit_button.disabled and player.ask_button.disabled

    player.ask_text.value = "Anything else?"
    player._ask()
    assert "has ended" in player.status_text


def test_abnormal_labs_are_flagged_like_a_lab_report():
    p = EncounterPlayer(task_id=STEMI, patient_matcher="lexical")
    order(p, "order_lab", test="troponin_t_hs")
    html = p.conversation.value
    troponin = get_task(STEMI).chart.labs["troponin_t_hs"]
    assert troponin.flag == "high"  # the case's value, as the chart holds it (a regenerated case may change it)
    assert '<tr class="abn">' in html and ">H</span>" in html and f"{troponin.value:g}" in html
    order(p, "order_lab", test="bmp")  # a panel is one table with a row per test
    assert "Basic metabolic panel" in p.conversation.value or "bmp" in p.conversation.value.lower()
    assert p.conversation.value.count("<table") == 2


def test_the_form_says_what_is_wrong_and_sends_nothing(player):
    turns = player.session.episode.turns
    player.tool_picker.value = "order_lab"
    player.run_button.click()  # no test chosen
    assert player.tool_form.errors == {"test": "Test: choose a value"}
    player.submit_button.click()  # no diagnosis
    assert player.submit_form.errors["diagnosis"] == "Diagnosis: required"
    assert player.session.episode.turns == turns and "Fix the highlighted fields" in player.status_text


def typed_tool(count: int, dose_mg: float, confirmed: bool, scores: list[int],
               route: Literal["oral", "iv"] = "oral", note: str | None = None) -> dict:
    """A tool with every parameter type.

    Args:
        count: A whole number.
        dose_mg: A number.
        confirmed: Yes or no.
        scores: Whole numbers.
        route: One of the routes.
        note: Free text.
    """
    return {}


def test_the_form_checks_types_from_the_schema():
    form = ToolForm(ToolSpec("typed_tool", typed_tool, (), "domain", 0.0, None))
    f = {n: fld.widget for n, fld in form.fields.items()}
    assert type(f["confirmed"]).__name__ == "Checkbox" and type(f["route"]).__name__ == "Dropdown"
    f["count"].value, f["dose_mg"].value, f["scores"].value = "three", "7,5", "1\nx"
    assert form.arguments() is None
    assert form.errors["count"] == "Count: must be a whole number, e.g. 3; got 'three'"
    assert form.errors["dose_mg"] == "Dose mg: must be a number, e.g. 7.5; got '7,5'"
    assert form.errors["scores"] == "Scores: item 2 must be a whole number, e.g. 3; got 'x'"
    f["count"].value, f["dose_mg"].value, f["scores"].value = "3", "7.5", "1\n2"
    f["confirmed"].value = True
    assert form.arguments() == {"count": 3, "dose_mg": 7.5, "confirmed": True, "scores": [1, 2]}  # blanks left out
    f["route"].value, f["note"].value = "iv", "slow push"
    assert form.arguments()["route"] == "iv" and form.arguments()["note"] == "slow push"
    f["count"].value = "2.5"
    assert form.arguments() is None and "whole number" in form.errors["count"]


def test_case_selection_by_domain_type_and_id():
    p = EncounterPlayer(domain="clinical_diagnosis", task_type="management", patient_matcher="lexical")
    ids = [v for _, v in p.case_picker.options]
    assert ids == [t.id for t in load_tasks(domain="clinical_diagnosis", task_type="management")]
    assert all(t_id not in label for label, t_id in p.case_picker.options)
    p.start()
    assert p.session.task.task_type == "management"
    assert p.submit_button.description == "Submit treatment plan" and "plan" in p.submit_form.fields
    p.case_id.value = "no-such-case"
    p.start_button.click()
    assert "unknown task id 'no-such-case'" in p.status_text and p.session.task.task_type == "management"
    p.case_id.value = STEMI
    p.start_button.click()
    assert p.session.task.id == STEMI and p.case_picker.value == STEMI and p.type_picker.value == "any"


def test_an_unknown_domain_is_a_clear_error():
    with pytest.raises(ValueError, match="no tasks for domain 'cardiology'"):
        EncounterPlayer(domain="cardiology")


# --- watching ---------------------------------------------------------------------------------------------


def test_watch_the_scripted_clinician_turn_by_turn():
    p = EncounterPlayer(task_id=STEMI, patient_matcher="lexical", reward="shaped")
    assert p.watch("scripted")
    p.next_button.click()
    p.next_button.click()
    assert p.turn_info.value.startswith("<b>Turn 2</b>") and len(p.agent_run.turns) == 2
    p.prev_button.click()
    assert p.view_turn == 0 and p.conversation.value.count("msg doctor") == 1
    assert "current" in p.conversation.value and "tokens</span>" in p.conversation.value
    p.end_button.click()
    turns = p.agent_run.turns
    assert p.token_plot.data[0].y == tuple(t.tokens for t in turns)
    assert all(t.tokens > 0 for t in turns)
    assert "<span class=\"call\">" in p.conversation.value  # calls highlighted as the agent wrote them
    assert "score" in p.end.value

    env = EncounterEnv(split=None, reward="shaped", patient_matcher="lexical")
    info, total, steps = play(env, ScriptedPolicy(), seed=0, options={"task_id": STEMI})
    assert steps == len(turns) and p.result["total"] == pytest.approx(total)
    assert p.result["success"] == info["success"]


def test_watch_the_oracle_and_the_auto_play():
    p = EncounterPlayer(task_id=PERICARDITIS, patient_matcher="lexical")
    p.agent_picker.value = "oracle"
    p.load_button.click()
    p.autoplay.value = 1  # the browser's Play widget ticks this
    p.autoplay.value = 2
    assert len(p.agent_run.turns) == 2
    p.run_to_end()
    assert p.result["success"] and p.result["terms"]["outcome"] == 1.0


def test_a_missing_model_says_which_command_builds_it(tmp_path, player, monkeypatch):
    monkeypatch.setenv("MEDGYM_MODELS_DIR", str(tmp_path / "models"))
    player.mode.value = "Watch an agent"
    player.agent_picker.value = "default"
    player.load_button.click()
    assert "No model at" in player.status_text and "medgym model build" in player.status_text
    player.agent_picker.value = "model"
    player.model_path.value = str(tmp_path / "nope")
    player.load_button.click()
    assert "No model at" in player.status_text and "medgym model build" in player.status_text
    player.model_path.value = str(tmp_path)
    player.load_button.click()
    assert "no config.json" in player.status_text and player.agent_run is None


# --- reward lab ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trajectories():
    tasks = [get_task(PERICARDITIS), get_task(STEMI), load_tasks(split="test", task_type="management")[0]]
    from medgym.agents import OraclePolicy

    agents = {"scripted": ScriptedPolicy, "scripted, 3 turns": ScriptedPolicy, "oracle": OraclePolicy}
    return collect(agents, tasks, max_turns={"scripted, 3 turns": 3})


def expected(trajectories, weights):
    return [score(t.episode, get_task(t.task_id), weights).total for t in trajectories]


def test_reward_lab_rescores_when_weights_change(trajectories):
    lab = RewardLab(trajectories, preset="shaped", baseline="terminal")
    assert lab.scores == pytest.approx(expected(trajectories, "shaped"))
    assert lab.baseline_scores == pytest.approx(expected(trajectories, "terminal"))
    assert list(lab.histogram.data[1].x) == pytest.approx(lab.scores)
    truncated = [t for t in trajectories if t.policy == "scripted, 3 turns"]
    assert all(t.episode.truncated for t in truncated)

    lab.sliders["process"].value = 2.0
    weights = {**PRESETS["shaped"], "process": 2.0}
    assert lab.weights == weights and lab.preset_picker.value == "custom"
    assert lab.scores == pytest.approx(expected(trajectories, weights))

    lab.enabled["outcome"].value = False
    assert "outcome" not in lab.weights
    assert lab.scores == pytest.approx(expected(trajectories, {k: v for k, v in weights.items() if k != "outcome"}))

    lab.preset_picker.value = "terminal"
    assert lab.weights == PRESETS["terminal"] and lab.scores == pytest.approx(lab.baseline_scores)
    by_policy = dict(zip(lab.by_policy.data[1].x, lab.by_policy.data[1].y))
    assert by_policy["oracle"] == 1.0 and by_policy["scripted, 3 turns"] == 0.0


def test_reward_lab_ranking_and_custom_term(trajectories):
    from scipy.stats import kendalltau

    lab = RewardLab(trajectories, preset="terminal", baseline="shaped")

    def brevity(episode, task):
        """Fewer turns are better."""
        return -episode.turns / 24

    lab.add_term("brevity", brevity, weight=1.0)
    assert lab.weights == {"outcome": 1.0, "brevity": 1.0}
    assert lab.scores == pytest.approx(expected(trajectories, {"outcome": 1.0, "brevity": 1.0}))
    assert lab.rank_correlation() == pytest.approx(kendalltau(lab.scores, lab.baseline_scores).statistic)
    current, _ = lab.ranks()
    best = max(lab.scores)
    assert {current[i] for i, s in enumerate(lab.scores) if s == best} == {1}  # ties share the best rank
    assert "Biggest movers" in lab.ranking.value


def test_a_broken_custom_term_is_named_and_not_added(trajectories):
    from medgym.rewards import terms

    lab = RewardLab(trajectories)
    before = list(lab.scores)

    def broken(episode, task):
        return 1 / 0

    assert lab.add_term("broken_term", broken) is False
    assert "reward term 'broken_term' failed" in text(lab.error.value) and "ZeroDivisionError" in lab.error.value
    assert lab.scores == before and "broken_term" not in terms() and "broken_term" not in lab.sliders
    assert lab.add_term("broken_term", lambda e, t: math.nan) is False
    assert "a finite float" in lab.error.value and "broken_term" not in terms()
    assert lab.add_term("steady", lambda e, t: 0.0, weight=0.5) is True  # a working term clears the error
    assert lab.error.value == "" and lab.scores == pytest.approx(before)


def test_a_saved_preset_is_yaml_the_environment_accepts(trajectories, tmp_path):
    from widgets.reward_lab import load_preset

    lab = RewardLab(trajectories)
    lab.sliders["efficiency"].value = 0.5
    path = lab.save_preset(tmp_path / "preset.yaml", name="tuned")
    data = yaml.safe_load(path.read_text())
    assert data == {"reward": {**PRESETS["shaped"], "efficiency": 0.5}}
    weights = load_preset(path)
    env = EncounterEnv(split=None, reward=weights, patient_matcher="lexical")
    assert env.reward_weights == weights
    for name in lab.enabled:
        lab.enabled[name].value = False
    with pytest.raises(ValueError, match="enable at least one term"):
        lab.save_preset(tmp_path / "empty.yaml")
    (tmp_path / "bad.yaml").write_text("reward: {outcome: lots}\n")
    with pytest.raises(ValueError, match="weights must be numbers"):
        load_preset(tmp_path / "bad.yaml")


def test_stored_trajectories_survive_a_corrupt_line(trajectories, tmp_path):
    path = save_trajectories(tmp_path / "t.jsonl", trajectories)
    with open(path, "a") as f:
        f.write('{"policy": "x", "task_id": "no-such-task", "episode": {"task_id": "x"}}\n{not json\n')
    loaded, problems = load_trajectories(path)
    assert len(loaded) == len(trajectories) and len(problems) == 2
    assert problems[0].startswith(f"line {len(trajectories) + 1}: KeyError") and "line" in problems[1]
    assert [t.episode for t in loaded] == [t.episode for t in trajectories]
    lab = RewardLab.from_file(path)
    assert "2 unreadable records skipped" in lab.children[0].value


def test_agent_run_trajectory_matches_the_episode():
    run = AgentRun(ScriptedPolicy(), STEMI, patient_matcher="lexical").run()
    t = run.trajectory()
    assert isinstance(t, Trajectory) and t.episode.turns == len(t.tokens) == len(run.turns)
    assert t.episode.terminated and t.messages == run.session.messages


# --- training dashboard ---------------------------------------------------------------------------------------


def test_dashboard_plots_what_the_trainer_logs():
    dash = TrainingDashboard()
    assert dash.figures == {} and "Waiting" in dash.status.value
    dash.live("grpo", {"method": "grpo", "seed": 0})
    for step in range(3):
        dash.on_metrics({"step": step, "reward_mean": 0.1 * step, "reward_std": 0.05,
                         "tokens_per_episode_mean": 100.0 + step, "tokens_per_episode_std": 10.0})
    assert set(dash.figures) == {"reward_mean", "tokens_per_episode_mean"}
    assert dash.series("reward_mean") == ([0.0, 1.0, 2.0], [0.0, 0.1, 0.2])
    band, line = dash.figures["tokens_per_episode_mean"].data
    assert band.meta["role"] == "band" and list(band.y) == [110.0, 111.0, 112.0, 92.0, 91.0, 90.0]
    assert list(line.y) == [100.0, 101.0, 102.0]
    dash.on_metrics({"step": 3, "reward_mean": 0.4, "kl_teacher_per_turn": 0.02, "loss": 1.5})
    assert {"kl_teacher_per_turn", "loss"} <= set(dash.figures)  # a new key gets a panel, unknown ones too
    assert list(dash.grid.children).index(dash.figures["kl_teacher_per_turn"]) < list(dash.grid.children).index(dash.figures["loss"])
    dash.on_metrics({"reward_mean": 0.5})  # no step: numbered after the last, and reported
    dash.on_metrics(["not", "a", "dict"])
    assert dash.series("reward_mean")[0][-1] == 4.0
    assert "no numeric 'step'" in text(dash.status.value) and "not a dict" in dash.status.value


def write_run(path, method, seed, rewards, extra=""):
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump({"method": method, "seed": seed}))
    lines = [f'{{"step": {i}, "reward_mean": {r}, "success_rate": {r}}}' for i, r in enumerate(rewards)]
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n" + extra)


def test_dashboard_overlays_finished_runs(tmp_path):
    write_run(tmp_path / "grpo-0", "grpo", 0, [0.1, 0.2])
    write_run(tmp_path / "grpo-1", "grpo", 1, [0.2, 0.3])
    write_run(tmp_path / "ttopd-0", "tt-opd", 0, [0.3, 0.5], extra="{broken\n")
    dash = TrainingDashboard()
    runs = dash.load_runs(tmp_path)
    assert [r.label for r in runs] == ["grpo · seed 0", "grpo · seed 1", "tt-opd · seed 0"]
    lines = {t.name: t for t in dash.figures["reward_mean"].data if t.meta["role"] == "mean"}
    assert lines["grpo · seed 0"].line.color == lines["grpo · seed 1"].line.color != lines["tt-opd · seed 0"].line.color
    assert lines["grpo · seed 0"].line.dash != lines["grpo · seed 1"].line.dash
    assert list(lines["tt-opd · seed 0"].y) == [0.3, 0.5]
    assert "line 3: not JSON" in dash.status.value
    assert dash.figures["success_rate"].layout.yaxis.range == (-0.02, 1.02)
    static = dash.figure()
    assert {a.text for a in static.layout.annotations} >= {"Success rate", "Reward (mean ± SD)"}
    with pytest.raises(FileNotFoundError, match="no run directory"):
        dash.load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has no metrics.jsonl"):
        dash.load_run(tmp_path / "empty")


def test_a_missing_knowledge_index_says_which_command_builds_it(tmp_path, monkeypatch):
    from medgym.tools import list_tools
    from widgets.player import knowledge_notice

    if not any(t.name == "search_knowledge" for t in list_tools("clinical_diagnosis")):
        pytest.skip("no search_knowledge tool in this installation (it comes with the knowledge base)")
    monkeypatch.delenv("MEDGYM_CHROMA_URL", raising=False)
    monkeypatch.setenv("MEDGYM_KB_DIR", str(tmp_path / "kb"))
    assert "medgym kb build --small" in knowledge_notice("clinical_diagnosis")
    p = EncounterPlayer(task_id=PERICARDITIS, patient_matcher="lexical")
    assert "medgym kb build --small" in text(p.notice.value)
