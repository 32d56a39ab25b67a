import math

import pytest

from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.env import EncounterEnv
from medgym.metrics import collapse_summary, episode_stats, step_metrics


def test_step_metrics_from_real_episodes(tasks):
    env = EncounterEnv(tasks=tasks[:6], patient_matcher="lexical")
    episodes = []
    for policy in (OraclePolicy(), ScriptedPolicy()):
        for t in tasks[:3]:
            info, total, steps = play(env, policy, seed=0, options={"task_id": t.id})
            calls = [c.model_dump() for c in env.episode.calls]
            episodes.append(episode_stats([10] * steps, calls, total, info["success"]))
    m = step_metrics(episodes)
    assert m["episodes"] == 6 and m["success_rate"] == 1.0 and m["monologue_rate"] == 0.0
    assert m["tool_call_validity"] == 1.0
    assert m["tokens_per_turn_mean"] == 10 and m["tool_calls_per_episode"] > 3
    assert m["turns_per_episode"] == pytest.approx(sum(e.turns for e in episodes) / 6)


def test_monologue_and_validity():
    mono = episode_stats([300], [{"name": "submit_diagnosis", "valid": True}], 0.0, False)
    talk = episode_stats([20, 30], [{"name": "patient"}, {"name": "order_lab", "valid": False, "error": "x"},
                                    {"name": "submit_diagnosis"}], 1.0, True, kl_per_turn=[0.2, 0.4])
    assert mono.monologue and not talk.monologue
    assert talk.tool_calls == 1 and talk.info_calls == 1 and talk.invalid_calls == 1
    m = step_metrics([mono, talk])
    assert m["monologue_rate"] == 0.5
    assert m["tool_call_validity"] == pytest.approx(2 / 3)
    assert m["tokens_per_episode_mean"] == 175 and m["tokens_per_turn_max"] == 300
    assert m["kl_teacher_per_turn"] == pytest.approx(0.3)
    with pytest.raises(ValueError):
        step_metrics([])
    odd = step_metrics([talk, episode_stats([5], [], math.inf, False)])
    assert math.isinf(odd["reward_mean"]) and math.isnan(odd["reward_std"])


def test_collapse_summary_detects_explosion_and_erosion():
    run = [{"step": s, "tokens_per_episode_mean": 100 + 50 * s, "tool_calls_per_episode": 6 - s} for s in range(5)]
    s = collapse_summary(run)
    assert s["length_explosion_ratio"] == 3.0 and s["length_slope"] == pytest.approx(50)
    assert s["tool_use_ratio"] == pytest.approx(2 / 6) and s["tool_use_erosion"] == pytest.approx(2 / 3)
    assert s["tool_use_slope"] == pytest.approx(-1)
    stable = [{"step": s, "tokens_per_episode_mean": 100, "tool_calls_per_episode": 5} for s in range(3)]
    assert collapse_summary(stable) == {"steps": 3.0, "length_explosion_ratio": 1.0, "length_slope": 0.0,
                                        "tool_use_ratio": 1.0, "tool_use_erosion": 0.0, "tool_use_slope": 0.0}
    assert math.isinf(collapse_summary([{"step": 0, "tokens_per_episode_mean": 0, "tool_calls_per_episode": 0},
                                        {"step": 1, "tokens_per_episode_mean": 5, "tool_calls_per_episode": 1}])["length_explosion_ratio"])
