import json

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medgym  # noqa: F401  (registers the env)
from medgym.env import REPEAT_NOTE, EncounterEnv

TASK = "cardiology-acute_pericarditis-003"


def test_registered_and_passes_gymnasium_env_checker():
    env = gym.make("medgym/Encounter-v0", domain="clinical_diagnosis", split="train")
    # check_env runs every check that applies; the observation space is AnyText (see medgym.env)
    # because gymnasium's Text space admits only a fixed charset, and clinical text has units like °C.
    check_env(env.unwrapped, skip_render_check=False)
    env.close()


def test_reset_returns_prompt_tools_and_presentation(env):
    obs, info = env.reset(seed=0, options={"task_id": TASK})
    assert obs.startswith("You are a physician")
    assert '"name": "order_lab"' in obs and "Chief complaint: sharp chest pain." in obs
    assert [m["role"] for m in info["messages"]] == ["system", "user"]
    assert {t["function"]["name"] for t in info["tools"]} >= {"ask_patient", "order_lab", "submit_diagnosis"}
    assert info["task_id"] == TASK and "truth" not in json.dumps(info)


def test_same_seed_same_task_and_replies():
    a, b = EncounterEnv(split="train"), EncounterEnv(split="train")
    assert a.reset(seed=5)[0] == b.reset(seed=5)[0]
    assert a.step("gibberish?")[0] == b.step("gibberish?")[0]


def test_tool_calls_in_text_and_in_dict_form(env):
    env.reset(seed=0, options={"task_id": TASK})
    text = '<tool_call>{"name": "order_lab", "arguments": {"test": "crp"}}</tool_call>'
    obs, reward, terminated, truncated, info = env.step(text)
    assert obs.startswith("[order_lab] ") and '"test": "crp"' in obs
    assert info["tool_calls"][0]["valid"] and info["invalid_calls"] == 0 and not terminated
    msg = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "examine", "arguments": {"system": "cardiovascular"}}},
        {"type": "function", "function": {"name": "read_vitals", "arguments": "{}"}}]}
    obs, *_ , info = env.step(msg)
    assert [m["name"] for m in info["new_messages"]] == ["examine", "read_vitals"]
    assert info["messages"][-3]["tool_calls"][0]["function"]["name"] == "examine"


def test_a_repeated_call_gets_its_result_with_a_note(env):
    env.reset(seed=0, options={"task_id": TASK})
    lab = '<tool_call>{"name": "order_lab", "arguments": {"test": "crp"}}</tool_call>'
    first = json.loads(env.step(lab)[4]["new_messages"][0]["content"])
    env.step('<tool_call>{"name": "order_lab", "arguments": {"test": "esr"}}</tool_call>')
    again = json.loads(env.step(lab)[4]["new_messages"][0]["content"])
    assert again == {"note": REPEAT_NOTE, **first} and list(again)[0] == "note"
    other = json.loads(env.step('<tool_call>{"name": "order_lab", "arguments": {"test": "wbc"}}</tool_call>')[4]
                       ["new_messages"][0]["content"])
    assert "note" not in other
    assert env.episode.tool_calls == 4 and env.episode.invalid_calls == 0  # a repeat is still a valid call


def test_plain_text_goes_to_the_patient(env):
    env.reset(seed=0, options={"task_id": TASK})
    obs, *_, info = env.step("Is the pain worse when you lie flat?")
    assert obs.startswith("[patient] ")
    assert info["new_messages"] == [{"role": "user", "content": obs[len("[patient] "):]}]


@pytest.mark.parametrize(
    "action, fragment",
    [
        ('<tool_call>{"name": "order_lab", "arguments": {"test": }</tool_call>', "is not valid JSON"),
        ('<tool_call>{"name": "order_lab", "arguments": {"test": "crp"}}', "never closed"),
        ('<tool_call>{"name": "teleport", "arguments": {}}</tool_call>', "Unknown tool 'teleport'"),
        ('<tool_call>{"name": "order_lab", "arguments": {}}</tool_call>', "'test' is a required property"),
        ('<tool_call>{"name": "order_lab", "arguments": {"test": "crp", "stat": 1}}</tool_call>', "unexpected argument"),
        ('<tool_call>{"name": "examine", "arguments": {"system": 3}}</tool_call>', "system must be one of"),
        ("", "The message is empty"),
        ("x" * 1_000_000, "the limit is 32,768"),
        (42, "must be a string or a dict, got int"),
        (None, "must be a string or a dict, got NoneType"),
        ({"tool_calls": "oops"}, "tool_calls must be a list"),
    ],
)
def test_bad_input_gets_an_error_observation_and_the_episode_goes_on(env, action, fragment):
    env.reset(seed=0, options={"task_id": TASK})
    obs, reward, terminated, truncated, info = env.step(action)
    assert fragment in obs
    assert info["invalid_calls"] == 1 and info["episode"]["invalid_calls"] == 1
    assert not terminated and not truncated
    obs, *_ = env.step('<tool_call>{"name": "read_vitals", "arguments": {}}</tool_call>')
    assert obs.startswith("[read_vitals]")


def test_final_submission_terminates_and_scores(env):
    env.reset(seed=0, options={"task_id": TASK})
    call = '<tool_call>{"name": "submit_diagnosis", "arguments": {"diagnosis": "Acute pericarditis", "icd10_code": "I30.9"}}</tool_call>'
    obs, reward, terminated, truncated, info = env.step(call + call)
    assert terminated and not truncated and info["success"] and reward == 1.0
    assert "Ignored: the encounter already ended" in obs
    with pytest.raises(gym.error.ResetNeeded):
        env.step("hello")


def test_truncates_at_max_turns():
    env = EncounterEnv(split=None, max_turns=2, patient_matcher="lexical")
    env.reset(seed=0, options={"task_id": TASK})
    assert env.step("Where does it hurt?")[3] is False
    obs, reward, terminated, truncated, info = env.step("Anything else?")
    assert truncated and not terminated and info["success"] is False and reward == 0.0


def test_render_gives_a_readable_transcript():
    env = EncounterEnv(split=None, render_mode="ansi", patient_matcher="lexical")
    env.reset(seed=0, options={"task_id": TASK})
    env.step('<tool_call>{"name": "order_ecg", "arguments": {}}</tool_call>')
    text = env.render()
    assert text.startswith("PRESENTATION: Patient: 54-year-old man")
    ecg = env.task.chart.imaging.get("ecg")
    assert "DOCTOR -> order_ecg({})" in text and (ecg.impression if ecg else "Normal ECG.") in text


def test_unknown_task_id_and_bad_config_raise_clearly():
    env = EncounterEnv(split=None)
    with pytest.raises(KeyError, match="unknown task id 'nope'"):
        env.reset(options={"task_id": "nope"})
    with pytest.raises(ValueError, match="no tasks for domain='psychiatry'"):
        EncounterEnv(domain="psychiatry", split="heldout", task_type="report")
    with pytest.raises(ValueError, match="unknown reward preset"):
        EncounterEnv(reward="nope")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=400), st.from_regex(r"<tool_call>.{0,80}(</tool_call>)?", fullmatch=True)))
def test_arbitrary_text_never_raises(env, text):
    env.reset(seed=0, options={"task_id": TASK})
    obs, reward, terminated, truncated, info = env.step(text)
    assert isinstance(obs, str) and isinstance(info["messages"], list)
