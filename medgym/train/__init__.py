"""Trainers: SFT warm start (medgym.models), the GRPO baseline and TT-OPD, on TRL."""
