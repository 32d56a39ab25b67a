"""The diagnostic workflow of the scripted clinician (condition-template domains).

It works only from what it observes: the presentation, the patient's answers,
the chart's history, the examination and the results of the tests it orders.
It reasons with the domain's clinical knowledge as a textbook states it (the
condition templates with every frequency rounded to "usually", "sometimes" or
"rarely", typical ages and vital signs as tendencies), never with the task's answer:

1. it finds every presenting complaint, in any specialty, that the chief
   complaint names, and merges their work-ups into a first round (history,
   examination, basic tests, bedside tools), keeping what most of them share;
2. it weighs the differential over every condition of every specialty (naive
   Bayes over the observed evidence; conditions that present with this complaint
   only atypically, or not at all, get a lower prior);
3. unless it is already confident, it orders the confirmatory tests of the
   leading diagnosis (and, for a work-up task, what guidelines require for it),
   re-weighs, and
4. submits the most probable condition (or its management plan), or, for a
   risk-stratification task, the score computed from the findings it gathered.
"""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from typing import Any, Callable

import numpy as np

from medgym.agents.scripted import Action, register_workflow
from medgym.domains.casebuilder import DEFAULT_SOCIAL, call_for
from medgym.domains.conditions import (
    VITAL_BANDS,
    Condition,
    Specialty,
    Workup,
    comorbidity_likelihood,
    history_likelihood,
    lab_likelihood,
    log,
    maneuver_likelihood,
    orthostatic_likelihood,
    prior_likelihood,
    text_of,
    vital_band,
    vital_likelihood,
)
from medgym.agents.workflows.common import interpret
from medgym.patient.matching import topics as history_topics
from medgym.tools import catalog
from medgym.tools.calls import assistant_message as tool_message

QUESTIONS_PER_TURN = 6
CONFIRM_CANDIDATES = 1
CONFIRM_ROUNDS = 1
OFF_COMPLAINT_PRIOR = 0.02
CLOSE_AT = 0.9  # submit without confirmatory tests when the leading diagnosis is this probable
ATYPICAL_COMPLAINT_PRIOR = 0.15  # a condition the textbook says can present this way, atypically
# Textbook frequency words and the probability the clinician reads each as. It knows that a feature
# is "usually" or "sometimes" present, not the simulator's exact numbers.
FREQUENCY_BANDS = ((0.6, 0.8), (0.2, 0.4), (0.0, 0.05))
OUTSIDE_TYPICAL_AGE = 0.2  # relative likelihood of an age outside the textbook range
SEX_CERTAINTY = 0.7  # how far the clinician trusts "more common in men/women"
VITAL_CERTAINTY = 0.8  # how far it trusts the typical vital signs of a condition
# bounds on the merged work-up of several complaints
MAX_TOPICS = 12
MAX_SYSTEMS = 6
MAX_LABS = 3
MAX_IMAGING = 1
MAX_TOOLS = 2
_CHIEF = re.compile(r"Chief complaint: (.*)")
_CALCULATOR = re.compile(r"with (calculate_\w+)")
_DEMOGRAPHICS = re.compile(r"(\d+)-year-old (male|female|man|woman)")
_NUMBER = re.compile(r"[\d.]+")

Call = tuple[str, dict[str, Any]]


class DiagnosticWorkup:
    """Complaint-guided work-up and a Bayesian differential over condition templates."""

    def __init__(self, specialties: list[Specialty]) -> None:
        self.specialties = specialties
        self.conditions: list[tuple[Specialty, Condition]] = [(s, textbook(c)) for s in specialties for c in s.conditions]
        # what the knowledge says, keyed by what an observer sees (text), so specialties may share findings
        self.findings_by_system: dict[str, list[str]] = {}
        self._finding_p: list[dict[str, float]] = []
        self._report_p: list[dict[str, dict[str, float]]] = []
        known_reports: set[tuple[str, str]] = set()
        for s, c in self.conditions:
            self._finding_p.append({s.findings[f].text: p for f, p in c.exam.items()})
            self._report_p.append({study: {s.reports[r].impression: p for r, p in reports.items()}
                                   for study, reports in c.imaging.items()})
        for s in specialties:
            for f in s.findings.values():
                texts = self.findings_by_system.setdefault(f.system, [])
                if f.text not in texts:
                    texts.append(f.text)
            known_reports |= {(r.study, r.impression) for r in s.reports.values()}
        self.known_reports = known_reports
        self.comorbidity_names = sorted({m for _, c in self.conditions for m in c.comorbidities})
        self.comorbidity_labs: dict[str, set[str]] = {}
        for s in specialties:
            for name, m in s.comorbidities.items():
                self.comorbidity_labs.setdefault(name, set()).update(m.labs)
        self._base = np.array([log(c.weight) for _, c in self.conditions])
        # the complaints each condition can present with atypically (from its atypical chief complaints)
        self._atypical = {
            (c.id, s.name): {(sp.name, name) for cc in c.atypical_chief_complaint for sp, name, _ in self._matching_complaints(text_of(cc).lower(), fallback=False)}
            for s, c in self.conditions
        }
        self._memo: dict[tuple[Any, ...], np.ndarray] = {}

    # --- episode ----------------------------------------------------------------------------------

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        opening = info["messages"][1]["content"]
        match = _CHIEF.search(opening)
        self.complaint_text = match.group(1).lower() if match else ""
        demographics = _DEMOGRAPHICS.search(opening)
        self.age = int(demographics.group(1)) if demographics else None
        self.sex = {"man": "male", "woman": "female"}.get(demographics.group(2), demographics.group(2)) if demographics else None
        self.matched = self._matching_complaints(self.complaint_text)
        self.workup = merge_workups([w for _, _, w in self.matched])
        self.final_tool = info["final_tool"]
        self.workup_task = "essential tests count" in opening  # the instructions ask for the required work-up
        calculator = _CALCULATOR.search(opening)
        self.score = _risk_score(calculator.group(1)) if calculator else None  # a risk-stratification task
        self.score_result: dict[str, Any] | None = None
        self.values: dict[str, float | str] = {}
        self.vital_values: dict[str, float] = {}
        self.offered = {t["function"]["name"] for t in info.get("tools", [])}
        self.history: dict[str, bool | str] = {}
        self.examined: dict[str, str] = {}
        self.labs: dict[str, str] = {}
        self.prior: dict[str, str] = {}
        self.studies: dict[str, str | None] = {}
        self.vitals: dict[str, str] = {}
        self.maneuvers: dict[str, bool] = {}
        self.orthostatic: bool | None = None
        self.pmh: set[str] | None = None
        self.done: set[str] = set()
        self._asked: deque[str] = deque()
        self._rounds = 0
        self.plan: deque[list[Call]] = deque(self._initial_plan())

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        self.observe(info)
        if self.plan:
            return self._send(self.plan.popleft())
        if self.score is not None:
            return self._risk_step()
        while self._rounds < CONFIRM_ROUNDS:
            self._rounds += 1
            if self.confidence() >= CLOSE_AT and not self.workup_task:
                break  # confident enough: no (further) confirmatory tests
            orders = self._confirmatory_orders(CONFIRM_CANDIDATES if self._rounds == 1 else 1)
            if orders:
                return self._send(orders)
        return tool_message(self._submission())

    def _risk_step(self) -> Action:
        """Compute the task's score from the findings gathered, then submit it."""
        if self.score_result is None:
            self.score_result = {}
            return tool_message((self.score.tool, self.score.arguments(_Observed(self))))
        from medgym.domains.clinical_diagnosis.risk import answer_text

        value = self.score_result.get(self.score.answer_key)
        return tool_message(("submit_answer", {"answer": answer_text(value) if isinstance(value, int | float) else "unknown"}))

    def _send(self, calls: list[Call]) -> Action:
        for name, args in calls:
            self.done.add(_action_key(name, args))
        return tool_message(*calls)

    # --- planning ---------------------------------------------------------------------------------

    def _matching_complaints(self, text: str, fallback: bool = True) -> list[tuple[Specialty, str, Workup]]:
        matched = [(s, name, w) for s in self.specialties for name, w in s.complaints.items()
                   if any(k in text for k in w.keywords)]
        if not matched and fallback:
            s = self.specialties[0]
            name, w = next(iter(s.complaints.items()))
            matched = [(s, name, w)]
        return matched

    def _initial_plan(self) -> list[list[Call]]:
        w = self.workup
        turns = [[("read_vitals", {}), ("review_medical_history", {}), ("review_medications", {})]]
        topics = [*w.history, *(["drug_use"] if "drug_use" not in w.history else [])]
        for i in range(0, len(topics), QUESTIONS_PER_TURN):
            turns.append([("ask_patient", {"question": history_topics()[t]["questions"][0]}) for t in topics[i : i + QUESTIONS_PER_TURN]])
            self._asked.extend(topics[i : i + QUESTIONS_PER_TURN])
        turns.append([("examine", {"system": s}) for s in w.exam])
        tools = [c for c in (_call(a) for a in w.tools) if c[0] in self.offered]
        tests = ([("order_ecg", {})] if w.ecg else []) + [("order_lab", {"test": t}) for t in w.labs] + tools
        turns.append(tests)
        if w.imaging:
            turns.append([("order_imaging", {"study": s}) for s in w.imaging])
        if self.score is not None:  # what the score needs, if the work-up did not already gather it
            planned = {_action_key(*c) for t in turns for c in t} | {f"ask_patient:{t}" for t in topics}
            needs = [a for a in self.score.needs if a not in planned]
            asked = [a.partition(":")[2] for a in needs if a.startswith("ask_patient:")]
            turns.append([("ask_patient", {"question": history_topics()[t]["questions"][0]}) for t in asked]
                         + [_call(a) for a in needs if not a.startswith("ask_patient:")])
            self._asked.extend(asked)
        return [t for t in turns if t]

    def _confirmatory_orders(self, candidates: int) -> list[Call]:
        ranked = self.differential()
        orders: list[Call] = []
        for i, (specialty, condition, _) in enumerate(ranked[:candidates]):
            actions = [_confirm_action(t) for t in condition.confirm]
            if i == 0:  # the work-up guidelines require for the leading diagnosis
                actions += condition.required
            for action in actions:
                call = _call(action)
                if call[0] in self.offered and _action_key(*call) not in self.done:
                    orders.append(call)
        return _unique(orders)

    def _submission(self) -> Call:
        specialty, condition, _ = self.differential()[0]
        if self.final_tool == "submit_treatment_plan":
            management, contraindicated = list(condition.management), set(condition.contraindicated)
            for variant in condition.variants:  # a variant whose history triggers were observed
                triggers = variant.get("history", {})
                if triggers and all(self.history.get(t) is True for t in triggers):
                    management += variant.get("management", [])
                    contraindicated |= set(variant.get("contraindicated", []))
            plan = [specialty.management[m].label for m in dict.fromkeys(management) if m not in contraindicated]
            return "submit_treatment_plan", {"plan": plan, "diagnosis": condition.name}
        return "submit_diagnosis", {"diagnosis": condition.name, "icd10_code": condition.icd10}

    # --- reasoning ---------------------------------------------------------------------------------

    def confidence(self) -> float:
        """The posterior probability of the leading diagnosis."""
        scores = np.array([score for _, _, score in self.differential()])
        weights = np.exp(scores - scores[0])
        return float(weights[0] / weights.sum())

    def differential(self) -> list[tuple[Specialty, Condition, float]]:
        """Conditions ranked by log posterior given everything observed."""
        scores = self._base + self._prior() + sum(self._vector(e) for e in self._evidence())
        order = np.argsort(-scores, kind="stable")
        return [(*self.conditions[i], float(scores[i])) for i in order]

    def _prior(self) -> np.ndarray:
        matched = {(s.name, name) for s, name, _ in self.matched}
        key = ("prior", frozenset(matched), self.age, self.sex)
        if key not in self._memo:
            values = []
            for s, c in self.conditions:
                if (s.name, c.complaint) in matched:
                    lp = 0.0
                elif self._atypical[c.id, s.name] & matched:
                    lp = log(ATYPICAL_COMPLAINT_PRIOR)
                else:
                    lp = log(OFF_COMPLAINT_PRIOR)
                if self.age is not None:
                    lo, hi = c.age
                    # a textbook age range is typical, not a hard limit
                    lp += log(1 / (hi - lo + 1)) + (0.0 if lo <= self.age <= hi else log(OUTSIDE_TYPICAL_AGE))
                if self.sex is not None:
                    p_male = SEX_CERTAINTY * c.male + (1 - SEX_CERTAINTY) * 0.5  # "more common in men", not a ratio
                    lp += log(max(p_male if self.sex == "male" else 1 - p_male, 0.01))
                values.append(lp)
            self._memo[key] = np.array(values)
        return self._memo[key]

    def _evidence(self) -> list[tuple[Any, ...]]:
        explained = set().union(*(self.comorbidity_labs.get(m, set()) for m in self.pmh or ()))
        ev: list[tuple[Any, ...]] = [("history", t, v) for t, v in self.history.items()]
        ev += [("exam", s, text) for s, text in self.examined.items()]
        ev += [("lab", t, f) for t, f in self.labs.items() if t not in explained]
        ev += [("prior", t, f) for t, f in self.prior.items() if t not in explained]
        ev += [("study", s, r) for s, r in self.studies.items()]
        ev += [("vital", n, b) for n, b in self.vitals.items()]
        ev += [("maneuver", m, p) for m, p in self.maneuvers.items()]
        if self.orthostatic is not None:
            ev.append(("orthostatic", self.orthostatic))
        if self.pmh is not None:
            ev += [("pmh", m, m in self.pmh) for m in self.comorbidity_names]
        return ev

    def _vector(self, evidence: tuple[Any, ...]) -> np.ndarray:
        """log P(one observation | condition) for every condition, memoised (the knowledge is fixed)."""
        if evidence not in self._memo:
            self._memo[evidence] = np.array([self._log_likelihood(i, c, evidence) for i, (_, c) in enumerate(self.conditions)])
        return self._memo[evidence]

    def _log_likelihood(self, i: int, c: Condition, evidence: tuple[Any, ...]) -> float:
        kind, *rest = evidence
        if kind == "history":
            topic, value = rest
            if topic in DEFAULT_SOCIAL:
                return log(max(c.social.get(topic, DEFAULT_SOCIAL[topic]).get(str(value), 0.0), 0.02))
            return log(history_likelihood(c, topic, value))
        if kind == "exam":
            system, text = rest
            p = self._finding_p[i]
            return sum(log(max(p.get(f, 0.02) if f in text else 1 - p.get(f, 0.02), 0.02))
                       for f in self.findings_by_system.get(system, []))
        if kind == "lab":
            return log(lab_likelihood(c, *rest))
        if kind == "prior":
            return log(prior_likelihood(c, *rest))
        if kind == "study":
            study, impression = rest
            reports = self._report_p[i].get(study, {})
            if impression is None:
                return log(max(1.0 - sum(reports.values()), 0.02))
            return log(max(reports.get(impression, 0.0), 0.01))
        if kind == "vital":  # "usually febrile", not always: mix the condition's range with chance
            name, band_ = rest
            return log(VITAL_CERTAINTY * vital_likelihood(c, name, band_) + (1 - VITAL_CERTAINTY) / len(VITAL_BANDS[name]))
        if kind == "maneuver":
            return log(maneuver_likelihood(c, *rest))
        if kind == "orthostatic":
            return log(orthostatic_likelihood(c, *rest))
        if kind == "pmh":
            return log(comorbidity_likelihood(c, *rest))
        raise ValueError(f"unknown evidence {kind}")

    # --- reading observations ---------------------------------------------------------------------

    def observe(self, info: dict[str, Any]) -> None:
        for message in info.get("new_messages", []):
            if message["role"] != "tool":
                continue
            name = message.get("name")
            try:
                content = json.loads(message["content"])
            except (json.JSONDecodeError, TypeError):
                continue
            if not isinstance(content, dict) or "error" in content:
                if name == "ask_patient" and self._asked:
                    self._asked.popleft()
                continue
            reader = self._readers().get(name)
            if reader:
                reader(content)

    def _readers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        return {
            "ask_patient": self._read_answer,
            "examine": lambda c: self.examined.__setitem__(c["system"], c["findings"]),
            "order_lab": self._read_lab,
            "point_of_care_test": self._read_lab,
            "perform_procedure": self._read_lab,
            "order_imaging": self._read_study,
            "order_ecg": self._read_study,
            "request_biopsy": self._read_study,
            "read_vitals": self._read_vitals,
            "review_medical_history": self._read_pmh,
            "perform_bedside_maneuver": lambda c: self.maneuvers.__setitem__(c["maneuver"], c["result"] == "positive"),
            "measure_orthostatic_vitals": self._read_orthostatic,
            "review_prior_results": lambda c: self.prior.update({r["test"]: r["flag"] for r in c["prior_results"]}),
            **({self.score.tool: lambda c: setattr(self, "score_result", c)} if self.score is not None else {}),
        }

    def _read_answer(self, content: dict[str, Any]) -> None:
        if not self._asked:
            return
        topic = self._asked.popleft()
        value = interpret(topic, content.get("patient", ""))
        if value is not None:
            self.history[topic] = value

    def _read_lab(self, content: dict[str, Any]) -> None:
        for result in content.get("results", [content]):
            self.labs[result["test"]] = result["flag"]
            self.values[result["test"]] = result["value"]
            self.done.add(f"order_lab:{result['test']}")

    def _read_study(self, content: dict[str, Any]) -> None:
        study = content["study"]
        known = (study, content["impression"]) in self.known_reports
        self.studies[study] = content["impression"] if known else None
        self.done.add("order_ecg" if study == "ecg" else f"order_imaging:{study}")

    def _read_pmh(self, content: dict[str, Any]) -> None:
        self.pmh = set(content.get("past_medical_history", []))

    def _read_orthostatic(self, content: dict[str, Any]) -> None:
        """Orthostatic hypotension: a fall of at least 20 mmHg systolic or 10 mmHg diastolic within
        3 minutes of standing (Freeman R et al. Consensus statement on the definition of orthostatic
        hypotension. Clin Auton Res 2011;21:69-72)."""
        lying = [float(x) for x in _NUMBER.findall(content["supine"]["blood_pressure"])]
        standing = [float(x) for x in _NUMBER.findall(content["standing_3_min"]["blood_pressure"])]
        self.orthostatic = lying[0] - standing[0] >= 20 or lying[1] - standing[1] >= 10

    def _read_vitals(self, content: dict[str, Any]) -> None:
        numbers = {k: [float(x) for x in _NUMBER.findall(str(v))] for k, v in content.items()}
        readings = {
            "heart_rate": numbers["heart_rate"][0],
            "systolic_bp": numbers["blood_pressure"][0],
            "respiratory_rate": numbers["respiratory_rate"][0],
            "temperature_c": numbers["temperature"][0],
            "spo2": numbers["spo2"][0],
        }
        self.vital_values = {**readings, "diastolic_bp": numbers["blood_pressure"][1]}
        self.vitals = {k: vital_band(k, v) for k, v in readings.items() if k in VITAL_BANDS}


def band(p: float) -> float:
    """A probability as the textbook frequency word it falls under (almost always ... rarely)."""
    return next(value for low, value in FREQUENCY_BANDS if p >= low)


def textbook(c: Condition) -> Condition:
    """The condition as a textbook describes it: every feature frequency rounded to its frequency word."""

    def values(spec: dict[str, float]) -> dict[str, float]:
        banded = {k: band(v) for k, v in spec.items()}
        total = sum(banded.values())
        return {k: v / total for k, v in banded.items()}

    update = {
        "history": {t: values(v) if isinstance(v, dict) else band(v) for t, v in c.history.items()},
        "social": {t: values(v) for t, v in c.social.items()},
        "exam": {f: band(p) for f, p in c.exam.items()},
        "maneuvers": {m: band(p) for m, p in c.maneuvers.items()},
        "comorbidities": {m: band(p) for m, p in c.comorbidities.items()},
        "labs": {t: spec.model_copy(update={"p": band(spec.p)}) for t, spec in c.labs.items()},
        "prior": {t: spec.model_copy(update={"p": band(spec.p)}) for t, spec in c.prior.items()},
        "imaging": {s: {r: band(p) for r, p in reports.items()} for s, reports in c.imaging.items()},
        "orthostatic": None if c.orthostatic is None else band(c.orthostatic),
    }
    return c.model_copy(update=update)


class _Observed:
    """The findings a risk score reads, as the scripted clinician observed them (see clinical_diagnosis.risk)."""

    def __init__(self, w: DiagnosticWorkup) -> None:
        self.w, self.age, self.sex = w, w.age, w.sex
        self.vitals = {"temperature_c": w.vital_values.get("temperature_c", 37.0), **w.vital_values}

    def lab(self, test: str) -> float | str | None:
        return self.w.values.get(test)

    def symptom(self, topic: str) -> bool | None:
        value = self.w.history.get(topic)
        return value if isinstance(value, bool) else None

    def exam(self, system: str) -> str:
        return self.w.examined.get(system, "")

    def has_history(self, *words: str) -> bool:
        text = " ".join(self.w.pmh or ()).lower()
        return any(word in text for word in words)


def _risk_score(tool: str) -> Any:
    """The risk score a calculator tool stands for (None for a calculator without a task definition)."""
    from medgym.domains.clinical_diagnosis.risk import SCORES

    return SCORES.get(tool)


def merge_workups(workups: list[Workup]) -> Workup:
    """The initial work-up for one or several complaints: the union, the items most of them share first,
    bounded (a first round of basic tests; targeted tests follow for the leading hypotheses)."""

    def ranked(lists: list[list[str]], limit: int) -> list[str]:
        counts = Counter(x for items in lists for x in dict.fromkeys(items))
        first = list(dict.fromkeys(x for items in lists for x in items))
        return sorted(first, key=lambda x: (-counts[x], first.index(x)))[:limit]

    return Workup(
        keywords=[k for w in workups for k in w.keywords],
        history=ranked([w.history for w in workups], MAX_TOPICS),
        exam=ranked([w.exam for w in workups], MAX_SYSTEMS),
        labs=ranked([w.labs for w in workups], MAX_LABS),
        imaging=ranked([w.imaging for w in workups], MAX_IMAGING),
        ecg=any(w.ecg for w in workups),
        tools=ranked([w.tools for w in workups], MAX_TOOLS),
    )


def _confirm_action(test: str) -> str:
    """A template's confirm entry (lab:x, imaging:y, ecg, tool:<action>) as an action key."""
    kind, _, key = test.partition(":")
    return {"ecg": "order_ecg", "lab": f"order_lab:{key}", "imaging": f"order_imaging:{key}", "tool": key}[kind]


def _call(action: str) -> Call:
    """The tool call for an action key; a result that comes from a procedure goes through it."""
    from medgym.domains.casebuilder import via

    call = call_for(via(action))
    return call.name, call.arguments


def _action_key(name: str, args: dict[str, Any]) -> str:
    return f"{name}:{next(iter(args.values()))}" if args and name != "ask_patient" else name


def _unique(orders: list[Call]) -> list[Call]:
    seen, out = set(), []
    for name, args in orders:
        key = (name, json.dumps(args, sort_keys=True))
        if key not in seen:
            seen.add(key)
            out.append((name, args))
    return out


register_workflow("diagnostic", DiagnosticWorkup)
