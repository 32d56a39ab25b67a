"""Unit behaviour of the training config and the TT-OPD distillation term."""

import pytest
import torch

from medgym.train.config import ConfigError, load_config, parse_config
from medgym.train.distill import episode_beta, ttopd_loss, turn_index


def test_config_rejects_unknown_keys_and_bad_values_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"teacher\.betta: unknown key"):
        parse_config({"method": "ttopd", "teacher": {"betta": 0.1}})
    with pytest.raises(ConfigError, match=r"steps: Input should be greater than or equal to 1"):
        parse_config({"steps": 0})
    with pytest.raises(ConfigError, match=r"method: Input should be 'grpo' or 'ttopd'"):
        parse_config({"method": "ppo"})
    with pytest.raises(ConfigError, match="unknown reward preset 'dense'"):
        parse_config({"reward": "dense"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    good = tmp_path / "good.yaml"
    good.write_text("method: ttopd\nteacher: {beta: 0.2}\n")
    assert load_config(good, {"teacher.beta": 0.0, "seed": 3}).teacher.beta == 0.0


def test_rollout_settings_reach_the_rollout_engine_by_name():
    """Every rollout setting of a training config, the decoding constraints included, is the rollout
    engine's setting of the same name; the reward preset goes with them."""
    from dataclasses import asdict

    settings = {"max_turns": 5, "max_turn_tokens": 40, "max_episode_tokens": 1000, "temperature": 0.7, "top_p": 0.9,
                "top_k": 20, "batch_size": 3, "patient_matcher": "hybrid", "constrain_tool_names": True,
                "submit_on_last_turn": True}
    config = parse_config({"reward": "shaped", "rollout": settings})
    assert set(settings) == set(type(config.rollout).model_fields)
    engine = asdict(config.rollout_config())
    assert {k: engine[k] for k in settings} == settings and engine["reward"] == "shaped"


@pytest.mark.parametrize("name", ["grpo", "ttopd", "grpo_drug_interaction"])
def test_shipped_training_configs_validate(name):
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "experiments" / "train" / f"{name}.yaml")
    assert config.name == name and config.model == "default"


def test_turn_index_truncates_each_turn_and_skips_env_tokens():
    # prompt of 5 tokens; turn 0 = [5, 9), env [9, 12), turn 1 = [12, 20)
    idx = turn_index([(5, 9), (12, 20)], completion_start=5, length=16, truncate_tokens=3)
    assert idx.tolist() == [0, 0, 0, -1, -1, -1, -1, 1, 1, 1, -1, -1, -1, -1, -1, -1]
    full = turn_index([(5, 9), (12, 20)], completion_start=5, length=16, truncate_tokens=None)
    assert (full == 1).sum() == 8 and (full == 0).sum() == 4
    seq = turn_index([(5, 9), (12, 20)], completion_start=5, length=16, truncate_tokens=None, per_turn=False)
    assert set(seq.tolist()) == {-1, 0} and (seq == 0).sum() == 12


def test_ttopd_loss_values_and_gradient_match_the_reverse_kl_estimator():
    torch.manual_seed(0)
    s = torch.log_softmax(torch.randn(2, 6), -1).requires_grad_(True)
    t = torch.log_softmax(torch.randn(2, 6), -1)
    ids = torch.tensor([[0, 0, -1, 1, 1, 1], [0, -1, -1, -1, -1, -1]])
    beta = torch.tensor([1.0, 0.5])
    loss, values = ttopd_loss(s, t, ids, beta)
    k1 = (s - t).detach()
    assert values[0] == pytest.approx([k1[0, :2].mean().item(), k1[0, 3:].mean().item()])
    assert values[1] == pytest.approx([k1[1, 0].item()])
    loss.backward()
    expected = torch.zeros(2, 6)
    expected[0, :2] = k1[0, :2] / 2 * 1.0 / 2
    expected[0, 3:] = k1[0, 3:] / 3 * 1.0 / 2
    expected[1, 0] = k1[1, 0] * 0.5 / 2
    assert torch.allclose(s.grad, expected)


def test_zero_beta_and_no_counted_tokens_give_zero():
    s = torch.zeros(1, 3, requires_grad=True)
    loss, values = ttopd_loss(s, torch.ones(1, 3), torch.full((1, 3), -1), torch.ones(1))
    assert loss.item() == 0.0 and values == [[]]
    assert episode_beta([True, False], 0.1, 0.0, None).tolist() == pytest.approx([0.0, 0.1])
