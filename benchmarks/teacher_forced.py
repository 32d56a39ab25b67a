"""Teacher-forced accuracy of a policy model on held-out oracle episodes, by part of the tool call.

Feeds each held-out task's oracle demonstration through the model once and
counts, over the assistant's tokens, how often the model's most likely next
token is the demonstrated one, split into the call's syntax before the tool
name, the tool name, argument keys and punctuation, and argument values; plus
the mean cross-entropy; the share of turns whose tool choice is right (every
token of the first call's tool name is the model's most likely one); and the
final call (the answer) on its own: its token accuracy and the share of episodes
whose final call is right token for token. `--in-sample` runs on the tasks the
model's build selected for training instead (from its build record; the build
leaves out the few whose episode runs over its token limit): if the answers are
no better there, the warm start underfits them rather than failing to generalize. It says what
the warm start learned independently of the loops that greedy free-running
decoding falls into (`medgym model eval`). Token accuracy flatters: the tokens
after a name's first are nearly free, so the tool choice is the stricter measure.

    python benchmarks/teacher_forced.py [--model DIR] [--tasks 60] [--in-sample]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import torch

from medgym.agents.hf import load_model
from medgym.models.build import build_info, default_model_dir
from medgym.models.evaluate import held_out_tasks
from medgym.models.trajectories import oracle_trajectories
from medgym.tasks import load_tasks


def part(before: str) -> str:
    """Which part of a call the next token belongs to, from the turn's text before it."""
    if '"name"' not in before:
        return "syntax before the name"
    if '"arguments"' not in before:
        return "tool name"
    return "argument values" if before.count('"') % 2 == 1 else "argument keys and punctuation"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the built default model)")
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--in-sample", action="store_true", help="the tasks the model's build selected for training, not held-out ones")
    args = parser.parse_args()
    model, tok = load_model(args.model)
    model.eval()
    if args.in_sample:
        info = build_info(args.model or default_model_dir())
        if info is None:
            parser.error("--in-sample needs a model built by `medgym model build` (its medgym_build.json lists its tasks)")
        trained = info["data"]["task_ids"][:args.tasks]
        by_id = {t.id: t for t in load_tasks(split="train")}
        tasks = [by_id[i] for i in trained]
    else:
        tasks = held_out_tasks(limit=args.tasks)
    final_right = final_total = final_exact = 0
    right, total, domain_right, domain_total = Counter(), Counter(), Counter(), Counter()
    choice_right, choice_total = Counter(), Counter()
    loss, counted = 0.0, 0
    for traj in oracle_trajectories(tasks, progress=False):
        row = traj.as_sft_row()
        enc = tok.apply_chat_template(row["messages"], tools=json.loads(row["tools"]), return_dict=True,
                                      return_assistant_tokens_mask=True)
        ids, mask = enc["input_ids"], enc["assistant_masks"]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0].float()
        predicted = logits.argmax(-1).tolist()
        targets = torch.tensor(ids[1:], device=logits.device)
        labelled = torch.tensor(mask[1:], device=logits.device).bool()
        loss += float(torch.nn.functional.cross_entropy(logits[:-1][labelled], targets[labelled], reduction="sum"))
        counted += int(labelled.sum())
        turn, name_hits, turn_hits = "", [], []
        for i in range(1, len(ids)):
            if not mask[i]:
                if name_hits:  # the end of an assistant turn: was its (first) tool name right?
                    choice_total[traj.domain] += 1
                    choice_right[traj.domain] += all(name_hits)
                if turn_hits:
                    last_turn = turn_hits
                turn, name_hits, turn_hits = "", [], []
                continue
            kind = part(turn)
            turn += tok.decode([ids[i]])
            hit = predicted[i - 1] == ids[i]
            turn_hits.append(hit)
            if kind == "tool name" and turn.count("<tool_call>") == 1:
                name_hits.append(hit)
            total[kind] += 1
            right[kind] += hit
            domain_total[traj.domain] += 1
            domain_right[traj.domain] += hit
        if turn_hits:  # the episode ended inside an assistant turn
            last_turn = turn_hits
        final_right += sum(last_turn)
        final_total += len(last_turn)
        final_exact += all(last_turn)
    report = {
        "tasks": "in-sample (the tasks its build selected for training)" if args.in_sample else "held-out",
        "episodes": len(tasks),
        "assistant_tokens": counted,
        "accuracy": round(sum(right.values()) / max(1, sum(total.values())), 3),
        "cross_entropy": round(loss / max(1, counted), 3),
        "accuracy_by_part": {k: round(right[k] / total[k], 3) for k in sorted(total)},
        "accuracy_by_domain": {k: round(domain_right[k] / domain_total[k], 3) for k in sorted(domain_total)},
        "tool_choice": round(sum(choice_right.values()) / max(1, sum(choice_total.values())), 3),
        "tool_choice_by_domain": {k: round(choice_right[k] / choice_total[k], 3) for k in sorted(choice_total)},
        "final_call_accuracy": round(final_right / max(1, final_total), 3),
        "final_call_exact": round(final_exact / max(1, len(tasks)), 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
