"""An optional simulated patient voiced by a language model, through the same policy adapters.

    from medgym.agents import HFPolicy, OpenAIPolicy
    from medgym.patient.llm import llm_patient
    env = EncounterEnv(domain="clinical_diagnosis", patient=llm_patient(OpenAIPolicy(model="...")))

The model plays the patient from a persona prompt that holds only what the
patient knows: the presentation and the chart's history facts, past history,
medications and allergies (never the diagnosis, exam, labs or imaging). It
answers in its own words. Which history topics a question touched (the action
keys that process rewards count) still come from the rule-based matcher, so
rewards do not depend on the patient model's wording.
"""

from __future__ import annotations

from typing import Any, Callable

from medgym.agents.base import Policy
from medgym.patient import PatientReply
from medgym.patient.matching import MatcherMode, match
from medgym.tasks.schema import Task

PERSONA = (
    "You are a patient talking to a doctor. Answer the doctor's last question in one or two short sentences of "
    "plain, everyday language, as the patient would, using only the facts below. If the facts do not cover the "
    "question, say you don't know or haven't noticed. Never name a diagnosis, and never invent symptoms, test "
    "results or medicines."
)
FALLBACK = "I'm not sure, doctor."


def persona_prompt(task: Task) -> str:
    """What the patient knows, as the system prompt of the patient model."""
    p, chart = task.presentation, task.chart
    lines = [PERSONA, "", f"You are a {p.age}-year-old {'man' if p.sex == 'male' else 'woman'} who came to the "
             f"{p.setting} because of {p.chief_complaint}."]
    if p.opening_statement:
        lines.append(f'You told the doctor: "{p.opening_statement}"')
    lines.append("Facts you know about yourself:")
    lines += [f"- {f.answer}" for f in chart.history]
    lines.append(f"- Past illnesses: {', '.join(chart.past_medical_history) or 'none'}.")
    lines.append(f"- Medicines: {', '.join(m.name for m in chart.medications) or 'none'}.")
    lines.append(f"- Allergies: {', '.join(a.substance for a in chart.allergies) or 'none known'}.")
    return "\n".join(lines)


class LLMPatient:
    """A patient whose replies come from a `Policy` (HFPolicy, OpenAIPolicy, ...)."""

    def __init__(self, task: Task, policy: Policy, seed: int = 0, matcher: MatcherMode = "lexical",
                 max_chars: int = 600) -> None:
        self.task, self.policy, self.seed, self.matcher, self.max_chars = task, policy, seed, matcher, max_chars
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": persona_prompt(task)}]
        self.policy.reset("", {"messages": self.messages, "tools": [], "task_id": f"patient:{task.id}:{seed}"})

    def reply(self, question: str) -> PatientReply:
        self.messages.append({"role": "user", "content": question})
        action = self.policy.act(question, {"messages": list(self.messages), "task_id": f"patient:{self.task.id}"})
        text = action if isinstance(action, str) else (action.get("content") or "")
        text = text.replace("<tool_call>", "").replace("</tool_call>", "").strip()[: self.max_chars] or FALLBACK
        self.messages.append({"role": "assistant", "content": text})
        return PatientReply(text, match(question, self.matcher))


def llm_patient(policy: Policy, matcher: MatcherMode = "lexical") -> Callable[[Task, int], LLMPatient]:
    """A patient factory for `EncounterEnv(patient=...)`: one LLM patient per episode."""

    def make(task: Task, seed: int) -> LLMPatient:
        return LLMPatient(task, policy, seed=seed, matcher=matcher)

    return make
