"""Notebook widgets on top of medgym: the encounter player, the reward lab and the training dashboard.

    from widgets import EncounterPlayer, RewardLab, TrainingDashboard
"""

from widgets.dashboard import TrainingDashboard
from widgets.player import EncounterPlayer
from widgets.reward_lab import RewardLab

__all__ = ["EncounterPlayer", "RewardLab", "TrainingDashboard"]
