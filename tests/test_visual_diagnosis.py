"""visual_diagnosis: the synthesized signals are physiologically right for their labels, the tools
measure them, images and WFDB records come out, and the agents behave."""

import collections
import io

import numpy as np
import pytest

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.domains.visual_diagnosis import ecg, fhr, measure, signals
from medgym.domains.visual_diagnosis.cases import RHYTHM_NAMES, generate
from medgym.env import EncounterEnv
from medgym.tools import ToolError, call_tool, list_tools

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

BASE = dict(pr=0.16, qrs=0.09, qtc=0.41, axis_deg=60, noise_mv=0.006, wander_mv=0.03)


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain="visual_diagnosis")


def record(**params):
    return ecg.synthesize({**BASE, **params}, seed=11)


def beats_in_strip(rhythm):
    return [b for b in rhythm.beats if 0 <= b.onset < ecg.DURATION]


# --- the ECG model ---------------------------------------------------------------------------------------------


def test_limb_leads_obey_einthoven_and_goldberger_even_with_noise():
    s = record(rhythm="normal_sinus_rhythm", rate=72)["signals"]
    i, ii, iii, avr, avl, avf = (s[:, k] for k in range(6))
    assert np.allclose(ii, i + iii, atol=1e-9)
    assert np.allclose(avr + avl + avf, 0, atol=1e-9)
    assert np.allclose(avf, (ii + iii) / 2, atol=1e-9)


def test_rhythms_are_physiologically_right_for_their_labels():
    rng = np.random.default_rng(3)
    sinus = ecg.make_rhythm("normal_sinus_rhythm", {**BASE, "rate": 75}, rng)
    assert len(sinus.p_waves) == len(sinus.beats) and set(sinus.conducted.values()) == {0.16}  # a P before every QRS, PR constant

    af = ecg.make_rhythm("atrial_fibrillation", {**BASE, "rate": 100}, rng)
    rr = np.diff([b.onset for b in af.beats])
    assert not af.p_waves and af.fibrillation and rr.std() / rr.mean() > 0.1  # no P waves, irregularly irregular

    flutter = ecg.make_rhythm("atrial_flutter", {**BASE, "atrial_rate": 300, "ratios": [4], "av_delay": 0.2}, rng)
    assert 250 <= flutter.flutter_rate <= 350 and abs(60 / np.diff([b.onset for b in flutter.beats]).mean() - 75) < 1  # 4:1

    first = ecg.make_rhythm("first_degree_av_block", {**BASE, "rate": 70, "pr": 0.28}, rng)
    assert min(first.conducted.values()) > 0.2 and len(first.conducted) == len(first.beats)

    wenckebach = ecg.make_rhythm("mobitz_i", {**BASE, "atrial_rate": 80, "cycle": 4, "cycle_offset": 0, "increment": 0.12, "pr": 0.18}, rng)
    prs = [wenckebach.conducted[i] for i in sorted(wenckebach.conducted)]
    assert prs[:3] == sorted(prs[:3]) and prs[0] < prs[1] < prs[2] and len(wenckebach.p_waves) > len(wenckebach.beats)

    mobitz2 = ecg.make_rhythm("mobitz_ii", {**BASE, "atrial_rate": 80, "cycle": 3, "cycle_offset": 0, "pr": 0.18, "qrs": 0.13}, rng)
    assert set(mobitz2.conducted.values()) == {0.18} and len(mobitz2.p_waves) > len(mobitz2.beats)

    complete = ecg.make_rhythm("third_degree_av_block", {**BASE, "atrial_rate": 85, "rate": 38, "qrs": 0.14}, rng)
    assert not complete.conducted and len(complete.p_waves) > 1.8 * len(complete.beats)  # dissociated, atria faster

    vt = ecg.make_rhythm("ventricular_tachycardia", {**BASE, "rate": 170, "qrs": 0.16, "atrial_rate": 80}, rng)
    assert all(b.ventricular and b.qrs >= 0.12 for b in vt.beats) and 60 / np.diff([b.onset for b in vt.beats]).mean() >= 100

    bigeminy = ecg.make_rhythm("ventricular_bigeminy", {**BASE, "sinus_rate": 75, "coupling": 0.6, "pvc_qrs": 0.15}, rng)
    assert [b.ventricular for b in bigeminy.beats[:6]] == [False, True] * 3

    junctional = ecg.make_rhythm("junctional_rhythm", {**BASE, "rate": 50}, rng)
    assert not junctional.p_waves and 40 <= 60 / np.diff([b.onset for b in junctional.beats]).mean() <= 60


def test_axis_and_st_truth():
    assert ecg.axis_category(ecg.frontal_axis({**BASE, "axis_deg": -60})) == "left axis deviation"
    assert ecg.axis_category(ecg.frontal_axis({**BASE, "axis_deg": 120})) == "right axis deviation"
    inferior = ecg.st_deviation({**BASE, "st_territory": "inferior", "st_mv": 0.25})
    assert min(inferior[lead] for lead in ("II", "III", "aVF")) > 0.1 and inferior["aVL"] < 0  # reciprocal depression
    lateral = ecg.st_deviation({**BASE, "st_territory": "lateral", "st_mv": 0.25})
    assert min(lateral[lead] for lead in ("I", "aVL", "V6")) > 0.1 and lateral["III"] < 0


def test_measurements_read_the_signal():
    for params, rate in (({"rhythm": "normal_sinus_rhythm", "rate": 75}, 75), ({"rhythm": "third_degree_av_block", "atrial_rate": 85, "rate": 38, "qrs": 0.14}, 38),
                         ({"rhythm": "ventricular_tachycardia", "rate": 170, "qrs": 0.16, "atrial_rate": 80}, 170)):
        rec = record(**params)
        assert abs(measure.rhythm_measurements(rec["signals"][:, 1], 500)["rate_bpm"] - ecg.true_rate(rec["rhythm"])) <= 3
    rec = record(rhythm="first_degree_av_block", rate=70, pr=0.30)
    atrial = measure.atrial_activity(rec["signals"][:, 1], 500)
    assert abs(np.median(atrial["pr_intervals_ms"]) - 300) < 30
    rec = record(rhythm="normal_sinus_rhythm", rate=70, axis_deg=-60)
    assert abs(measure.frontal_axis(rec["signals"], rec["leads"], 500)["axis_degrees"] - ecg.frontal_axis({**BASE, "axis_deg": -60})) < 10
    rec = record(rhythm="normal_sinus_rhythm", rate=70, st_territory="anterior", st_mv=0.3)
    st = measure.st_deviation(rec["signals"], rec["leads"], 500)
    assert min(st[lead] for lead in ("V2", "V3", "V4")) >= 2.0 and max(abs(st[lead]) for lead in ("II", "III", "aVF")) < 1.0
    long_qt = record(rhythm="normal_sinus_rhythm", rate=70, qtc=0.55)
    assert measure.intervals(long_qt["signals"], long_qt["leads"], 500)["qtc_bazett_ms"] > 470


# --- the FHR model (NICHD 2008 definitions) ---------------------------------------------------------------------


def test_fhr_features_match_their_labels():
    late = fhr.synthesize({"baseline": 140, "variability_amp": 12, "decelerations": "late", "accelerations": 0}, 5)
    for d in late["events"]:
        assert d["nadir"] - d["start"] >= 30 and d["nadir"] > d["contraction_peak"] + 15  # gradual, nadir after the peak
    variable = fhr.synthesize({"baseline": 140, "variability_amp": 12, "decelerations": "variable", "accelerations": 0}, 5)
    assert all(d["nadir"] - d["start"] < 30 and 15 <= d["end"] - d["start"] < 120 for d in variable["events"])
    early = fhr.synthesize({"baseline": 140, "variability_amp": 12, "decelerations": "early", "accelerations": 0}, 5)
    assert all(d["nadir"] - d["start"] >= 30 and abs(d["nadir"] - d["contraction_peak"]) < 1 for d in early["events"])
    recurrent = len(late["events"]) / len(late["contractions"])
    assert recurrent >= 0.5  # with >= 50% of contractions
    normal = fhr.synthesize({"baseline": 135, "variability_amp": 12, "decelerations": "none", "accelerations": 2}, 5)
    fs = normal["fs"]
    assert measure.fhr_baseline(normal["fhr"], fs)["baseline_bpm"] == 135
    assert 6 <= measure.fhr_variability(normal["fhr"], fs)["amplitude_bpm"] <= 25
    sinusoidal = fhr.synthesize({"baseline": 140, "variability_amp": 0, "decelerations": "none", "accelerations": 0,
                                 "sinusoidal": True, "sinusoidal_amp": 8, "sinusoidal_cpm": 4.0}, 5)
    v = measure.fhr_variability(sinusoidal["fhr"], sinusoidal["fs"])
    assert 3 <= v["dominant_cycles_per_min"] <= 5 and v["share_of_power_at_dominant_rhythm"] > 0.5


@pytest.mark.parametrize("baseline, variability, decelerations, sinusoidal, category", [
    (140, "moderate", "none", False, "I"), (140, "moderate", "early", False, "I"),       # NICHD 2008 category I
    (170, "moderate", "none", False, "II"), (140, "minimal", "none", False, "II"),       # tachycardia; minimal variability
    (140, "moderate", "late", False, "II"), (140, "marked", "none", False, "II"),        # recurrent late with moderate variability
    (140, "absent", "none", False, "II"),                                               # absent variability without recurrent decelerations
    (140, "absent", "late", False, "III"), (140, "absent", "variable", False, "III"),    # category III
    (100, "absent", "none", False, "III"), (140, "moderate", "none", True, "III"),
])
def test_nichd_three_tier_category(baseline, variability, decelerations, sinusoidal, category):
    assert fhr.nichd_category(baseline, variability, decelerations, sinusoidal) == category


# --- tasks, images, records ----------------------------------------------------------------------------------


def test_tasks_cover_rhythms_twelve_leads_and_tracings(tasks):
    assert len(tasks) >= 300
    counts = collections.Counter(t.task_type for t in tasks)
    assert set(counts) == {"rhythm_strip", "ecg_12lead", "fhr_tracing"} and min(counts.values()) >= 100
    assert {t.truth.answer for t in tasks if t.task_type == "rhythm_strip"} == set(RHYTHM_NAMES.values())
    heldout = {t.condition for t in tasks if t.split == "heldout"}
    assert heldout and not heldout & {t.condition for t in tasks if t.split != "heldout"}
    assert max(len(t.model_dump_json()) for t in tasks) < 4000  # parameters and a seed, not samples


def test_labels_hold_for_every_ecg_task(tasks):
    for t in tasks:
        spec = t.chart.extra["signal"]
        if spec["kind"] == "ctg":
            continue
        p = spec["params"]
        rhythm = ecg.make_rhythm(p["rhythm"], p, np.random.default_rng(spec["seed"]))
        rate = ecg.true_rate(rhythm)
        answers = t.truth.phases[0].answers
        low, high = answers["heart_rate_bpm"].within
        assert low <= rate <= high
        if p["rhythm"] == "sinus_bradycardia":
            assert rate < 60
        if p["rhythm"] == "sinus_tachycardia":
            assert rate > 100
        if p["rhythm"] == "normal_sinus_rhythm":
            assert 60 <= rate <= 100
        if "axis" in answers:
            angle = ecg.frontal_axis(p)
            assert ecg.axis_category(angle) == answers["axis"].exact[0]
            assert min(abs(angle - b) for b in (-90, -30, 90, 180, -180)) >= 10
            assert answers["qtc"].exact[0] == ("prolonged" if p["qtc"] >= 0.5 else "normal")


def test_images_are_png_and_deterministic(tasks):
    from PIL import Image

    for t in (tasks[0], next(x for x in tasks if x.task_type == "ecg_12lead"), next(x for x in tasks if x.task_type == "fhr_tracing")):
        png = signals.images(t)[0]
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == signals.images(t)[0]
        width, height = Image.open(io.BytesIO(png)).size
        assert width > 800 and height > 150


def test_vision_policies_get_an_image_part_and_text_policies_do_not(tasks):
    task = tasks[0]
    obs, info = EncounterEnv(tasks=[task], vision=True).reset(seed=0)
    parts = info["messages"][1]["content"]
    assert parts[0]["type"] == "image" and parts[0]["image"].startswith("data:image/png;base64,") and parts[-1]["type"] == "text"
    assert "Chief complaint" in obs  # the observation stays text
    _, info = EncounterEnv(tasks=[task]).reset(seed=0)
    assert isinstance(info["messages"][1]["content"], str)


def test_wfdb_records_round_trip(tasks, tmp_path):
    import wfdb

    twelve = next(t for t in tasks if t.task_type == "ecg_12lead")
    header = signals.write_wfdb(twelve, tmp_path)
    rec = wfdb.rdrecord(str(header.with_suffix("")))
    original = signals.load(twelve.chart.extra["signal"])
    assert rec.sig_name == ecg.LEADS and rec.fs == 500
    assert np.abs(rec.p_signal - original["signals"]).max() < 1e-3
    ann = wfdb.rdann(str(header.with_suffix("")), "atr")
    assert len(ann.sample) == len(beats_in_strip(original["rhythm"]))
    ctg = next(t for t in tasks if t.task_type == "fhr_tracing")
    rec = wfdb.rdrecord(str(signals.write_wfdb(ctg, tmp_path).with_suffix("")))
    assert rec.sig_name == ["FHR", "UC"] and rec.fs == 4


def test_tools_say_what_is_wrong(tasks):
    strip = tasks[0]
    with pytest.raises(ToolError, match="lead II only"):
        call_tool("ecg_axis", {}, strip)
    with pytest.raises(ToolError, match="No fetal heart rate tracing is recorded for this patient"):
        call_tool("ctg_baseline", {}, strip)
    with pytest.raises(ToolError, match="Lead V5 is not in this recording"):
        call_tool("ecg_rate_and_rhythm", {"lead": "V5"}, strip)
    own = [t for t in list_tools("visual_diagnosis") if t.domain == "visual_diagnosis"]
    assert len(own) >= 8
    assert {"ecg_rate_and_rhythm", "ecg_st_segments"} <= {t.name for t in list_tools("cross_domain")}


def test_generation_is_seeded_and_fast():
    import time

    start = time.perf_counter()
    a = generate(5)
    elapsed = time.perf_counter() - start
    assert [x.model_dump_json() for x in a] == [y.model_dump_json() for y in generate(5)]
    print(f"visual_diagnosis: {len(a)} tasks in {elapsed:.2f} s")


def test_oracle_and_scripted_reader(tasks):
    by_type = collections.defaultdict(list)
    for t in tasks:
        by_type[t.task_type].append(t)
    sample = [t for ts in by_type.values() for t in ts[::20]]
    env = EncounterEnv(tasks=sample, patient_matcher="lexical")
    for policy in (OraclePolicy(), ScriptedPolicy()):
        outcomes = [play(env, policy, seed=0, options={"task_id": t.id})[0]["success"] for t in sample]
        rate = sum(outcomes) / len(outcomes)
        print(policy.name, round(rate, 3), len(outcomes))
        assert rate == 1.0 if policy.name == "oracle" else 0.6 <= rate < 1.0


def test_scripted_never_reads_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_own_tools_and_sourced_knowledge():
    assert len(own_tools("visual_diagnosis")) >= 8
    assert_knowledge_is_sourced("visual_diagnosis")
