"""Saving and restoring the EMA teacher with the trainer's checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

TEACHER_FILE = "teacher.pt"


class TeacherCheckpoint(TrainerCallback):
    """Writes the teacher's weights into each checkpoint and reads them back on resume.

    They are written at the end of the step, before the trainer writes the rest of the checkpoint
    (the trainer decides to save before this callback runs), so a checkpoint whose trainer state
    is written, the trainer's last file, is complete (`medgym.train.run.latest_checkpoint`)."""

    def __init__(self, teacher: torch.nn.Module) -> None:
        self.teacher = teacher

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if control.should_save:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            folder.mkdir(parents=True, exist_ok=True)
            torch.save(self.teacher.state_dict(), folder / TEACHER_FILE)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == 0:
            return
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}" / TEACHER_FILE
        if not path.exists():
            raise FileNotFoundError(f"resuming at step {state.global_step}, but {path} is missing: the teacher cannot "
                                    "be restored; start the run again without --resume")
        try:
            self.teacher.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as exc:  # a truncated or foreign file
            raise ValueError(f"{path} is corrupt ({exc}); delete that checkpoint and resume from an earlier one") from exc
