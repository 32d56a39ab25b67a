"""Agents that play encounters, all behind the `Policy` interface."""

from medgym.agents.base import Action, Policy, tool_message
from medgym.agents.hf import HFPolicy
from medgym.agents.human import HumanPolicy
from medgym.agents.majority import MajorityPolicy
from medgym.agents.openai_api import OpenAIPolicy
from medgym.agents.oracle import OraclePolicy
from medgym.agents.scripted import ScriptedPolicy

__all__ = ["Action", "Policy", "tool_message", "HFPolicy", "HumanPolicy", "MajorityPolicy", "OpenAIPolicy",
           "OraclePolicy", "ScriptedPolicy", "play"]


def play(env, policy, seed=None, options=None):
    """Play one episode; return (final info, total reward, number of steps)."""
    observation, info = env.reset(seed=seed, options=options)
    policy.reset(observation, info)
    total, steps, done = 0.0, 0, False
    while not done:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation, info))
        total += reward
        steps += 1
        done = terminated or truncated
    return info, total, steps
