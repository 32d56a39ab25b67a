import collections

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.env import EncounterEnv


def run(policy, tasks):
    env = EncounterEnv(tasks=tasks, patient_matcher="lexical")
    results = collections.defaultdict(list)
    for t in tasks:
        info, total, steps = play(env, policy, seed=0, options={"task_id": t.id})
        results[(t.domain, t.specialty, t.task_type)].append(info["success"])
    return results


def test_oracle_solves_every_task(tasks):
    results = run(OraclePolicy(), tasks)
    failed = {k: v.count(False) for k, v in results.items() if not all(v)}
    assert not failed, failed


def test_scripted_clinician_is_a_real_baseline(tasks):
    results = run(ScriptedPolicy(), tasks)
    by_domain, by_specialty = collections.defaultdict(list), collections.defaultdict(list)
    for (domain, specialty, task_type), v in sorted(results.items(), key=str):
        print(f"scripted {domain}/{specialty or '-'}/{task_type}: {sum(v) / len(v):.2f} of {len(v)}")
        by_domain[domain] += v
        if specialty and domain == "clinical_diagnosis":  # the eight internal-medicine specialties
            by_specialty[domain, specialty] += v
    for (domain, specialty), v in sorted(by_specialty.items()):
        print(f"scripted {domain}/{specialty}: {sum(v) / len(v):.3f} of {len(v)}")
        assert 0.7 <= sum(v) / len(v) < 1.0, (domain, specialty)
    for domain, v in by_domain.items():
        assert 0.7 <= sum(v) / len(v) < 1.0, domain


def test_scripted_clinician_never_reads_the_answer():
    """Blank out the ground truth: the scripted clinician's actions must not change."""
    tasks = load_tasks(split="test")[:12]
    blind = [t.model_copy(update={"truth": t.truth.model_copy(update={
        "diagnosis": "x", "icd10": None, "synonyms": [], "management": [], "key_findings": [],
        "demonstration": t.truth.demonstration[-1:], "required_actions": []}), "rationale": "x"}) for t in tasks]
    def actions(ts):
        pol, out = ScriptedPolicy(), []
        for t in ts:
            env = EncounterEnv(tasks=[t], patient_matcher="lexical")
            obs, info = env.reset(seed=0)
            pol.reset(obs, info)
            done = False
            while not done:
                action = pol.act(obs, info)
                out.append(action)
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
        return out

    assert actions(tasks) == actions(blind)
