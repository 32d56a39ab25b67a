"""Benchmark readers, answer extraction and benchmark episodes (samples in tests/data/eval, written for these tests)."""

import json
from pathlib import Path

import pytest

from medgym.eval import evaluate
from medgym.eval.qa import detect_format, extract_choice, mmlu_files, read_benchmark
from medgym.eval.qaenv import QAEnv
from medgym.eval.suites import resolve_all, resolve_suites

DATA = Path(__file__).parent / "data" / "eval"
OPTIONS = {"A": "Aspirin", "B": "Heparin", "C": "Metoprolol", "D": "Nitroglycerin"}


@pytest.mark.parametrize("response, letter", [
    ("The answer is (C)", "C"),
    ("C.", "C"),
    ("**C**", "C"),
    ("C", "C"),
    ("c", "C"),
    ("Answer: c) Metoprolol", "C"),
    ("(B) Heparin", "B"),
    ("B) heparin, because it is an anticoagulant", "B"),
    ("Metoprolol", "C"),
    ("metoprolol.", "C"),
    ("The answer is a beta blocker: metoprolol.", "C"),
    ("I first thought A, but B is wrong too. The correct answer is D.", "D"),
    ("Let me weigh option A and option B.\nFinal answer: **(B)**", "B"),
    ("\\boxed{B}", "B"),
    ("$\\boxed{\\text{D}}$", "D"),
    ("Option C is correct.", "C"),
    ("I would choose d", "D"),
    ("<think>It could be A or B.</think>The answer is B", "B"),
    ("<think>A</think>\n\nD. Nitroglycerin", "D"),
    ("Answer:\n\n**D. Nitroglycerin**", "D"),
    ("The best answer is: (A) aspirin", "A"),
])
def test_answer_extraction_reads_the_usual_ways_of_answering(response, letter):
    assert extract_choice(response, OPTIONS) == letter


@pytest.mark.parametrize("response", [
    "",
    "I am not sure.",
    "Vitamin A is the best studied option here",  # an article / a vitamin, not option A
    "It is either aspirin or heparin.",  # two options named: ambiguous
    "The answer is E",  # not an option of this question
    "The answer is a beta blocker.",  # 'a' the article
])
def test_answer_extraction_refuses_to_guess(response):
    assert extract_choice(response, OPTIONS) is None


def test_yes_no_maybe_answers_are_read_from_the_words():
    options = {"A": "yes", "B": "no", "C": "maybe"}
    assert extract_choice("Yes. The trial showed fewer events.", options) == "A"
    assert extract_choice("maybe", options) == "C"
    assert extract_choice("The answer is (B)", options) == "B"


@pytest.mark.parametrize("name, fmt, evaluated, records, problems", [
    ("medqa_5options.jsonl", "medqa", 3, 5, {"missing field 'answer_idx'": 1}),
    ("medqa_4options.jsonl", "medqa", 3, 3, {}),
    ("medmcqa_dev.json", "medmcqa", 4, 6, {"missing field 'opc'": 1}),
    ("pubmedqa_ori_pqal.json", "pubmedqa", 2, 3, {"missing field 'final_decision'": 1}),
    ("mmlu/anatomy_test.csv", "mmlu", 2, 3, {"7 columns; MMLU rows have 6 (question, A, B, C, D, answer)": 1}),
    ("medxpertqa_text.jsonl", "medxpertqa", 2, 4, {"missing field 'label'": 1,
                                                  "needs images (MedXpertQA MM); only text questions are evaluated": 1}),
    ("mcq.jsonl", "mcq", 3, 5, {"field 'options' has fewer than two options": 1,
                                "field 'answer' = 'Green' names no option": 1}),
    ("mcq.csv", "mcq", 2, 3, {"4 columns, the header has 7": 1}),
])
def test_each_format_is_read_and_its_broken_records_counted(name, fmt, evaluated, records, problems):
    path = DATA / name
    assert detect_format(path) == fmt
    bench = read_benchmark(fmt, path)
    assert len(bench.items) == evaluated and bench.records == records
    for reason, n in problems.items():
        assert bench.problems[reason] == n
    # broken JSON is counted too, with its line number
    assert bench.skipped == records - evaluated
    assert all(e.split(":")[0].startswith(("line", "PMID")) for e in bench.examples)


def test_readers_map_answers_to_letters():
    medqa = read_benchmark("medqa", DATA / "medqa_5options.jsonl").items
    assert [i.answer for i in medqa] == ["C", "D", "E"] and len(medqa[0].options) == 5
    assert [len(i.options) for i in read_benchmark("medqa", DATA / "medqa_4options.jsonl").items] == [4, 4, 4]
    mcqa = read_benchmark("medmcqa", DATA / "medmcqa_dev.json")
    assert [i.answer for i in mcqa.items] == ["B", "C", "A", "D"]  # cop 1-based
    pubmed = read_benchmark("pubmedqa", DATA / "pubmedqa_ori_pqal.json").items
    assert pubmed[0].options == {"A": "yes", "B": "no", "C": "maybe"} and pubmed[0].answer == "A"
    assert pubmed[0].context.startswith("METHODS: ")
    mx = read_benchmark("medxpertqa", DATA / "medxpertqa_text.jsonl").items
    assert len(mx[0].options) == 10 and "Answer Choices" not in mx[0].question and mx[1].answer == "D"
    generic = read_benchmark("mcq", DATA / "mcq.jsonl").items
    assert [(i.id, i.answer) for i in generic] == [("g1", "B"), ("g2", "A"), ("g3", "B")]


def test_medmcqa_zero_based_export_is_recognised(tmp_path):
    rows = [{"id": f"x{k}", "question": f"q{k}", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": k}
            for k in range(4)]
    path = tmp_path / "medmcqa_hf.json"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    bench = read_benchmark("medmcqa", path)
    assert [i.answer for i in bench.items] == ["A", "B", "C", "D"]
    assert "cop read as 0-based" in bench.notes


def test_mmlu_folder_gives_one_suite_per_medical_subject():
    assert [f.name for f in mmlu_files(DATA / "mmlu")] == ["anatomy_test.csv", "clinical_knowledge_test.csv"]
    suites = resolve_suites(f"mmlu:{DATA / 'mmlu'}")
    assert [s.name for s in suites] == ["mmlu-anatomy", "mmlu-clinical_knowledge"]  # astronomy is not medical


def test_two_files_of_one_format_get_distinct_names():
    suites = resolve_all([f"medqa:{DATA / 'medqa_5options.jsonl'}", str(DATA / "medqa_4options.jsonl")])
    assert [s.name for s in suites] == ["medqa-medqa_5options", "medqa-medqa_4options"]
    both = resolve_suites(str(DATA / "medqa_4options.jsonl"), qa_mode="both")
    assert [(s.name, s.mode) for s in both] == [("medqa", "closed"), ("medqa/agentic", "agentic")]


def test_bad_benchmark_input_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_suites("medqa:/no/such/file.jsonl")
    with pytest.raises(ValueError, match="unknown suite 'medqa'.*FORMAT:PATH"):
        resolve_suites("medqa")
    broken = tmp_path / "ori_pqal.json"
    broken.write_text('{"1": {"QUESTION": "x"')
    with pytest.raises(ValueError, match="not valid JSON.*ori_pqal.json"):
        read_benchmark("pubmedqa", broken)
    headless = tmp_path / "questions.csv"
    headless.write_text("q,w\n1,2\n")
    with pytest.raises(ValueError, match="header with 'question'"):
        read_benchmark("mcq", headless)
    unknown = tmp_path / "x.jsonl"
    unknown.write_text('{"foo": 1}\n')
    with pytest.raises(ValueError, match="cannot tell the benchmark format.*medqa:"):
        resolve_suites(str(unknown))


class Answerer:
    """A policy that answers each question in a given style (it is told the answers, like an oracle)."""

    name = "answerer"

    def __init__(self, answers: dict[str, str], styles: list[str]) -> None:
        self.answers, self.styles, self.n, self.item = answers, styles, 0, None

    def reset(self, observation, info):
        self.item = info["task_id"]
        assert "Options:" in info["messages"][1]["content"] and info["tools"][0]["function"]["name"] == "submit_answer"

    def act(self, observation, info):
        style = self.styles[self.n % len(self.styles)]
        self.n += 1
        return style.format(self.answers[self.item])


def test_closed_book_episodes_score_accuracy_and_extraction_failures():
    suite = resolve_suites(str(DATA / "medqa_5options.jsonl"))[0]
    answers = {i.id: i.answer for i in suite.qa_items()}
    # correct in two styles, then an answer no option can be read from
    policy = Answerer(answers, ["The answer is ({})", "**{}**", "I cannot decide."])
    results = evaluate([policy, "oracle"], [str(DATA / "medqa_5options.jsonl")], seed=3)
    mine = results.cell("answerer", "medqa")["scores"]
    assert mine["success"]["mean"] == pytest.approx(2 / 3) and mine["success"]["n"] == 3
    assert mine["extraction_failure_rate"]["mean"] == pytest.approx(1 / 3)
    assert mine["turns"]["mean"] == 1 and "monologue_rate" not in mine  # closed book: one turn, no monologue measure
    oracle = results.cell("oracle", "medqa")["scores"]
    assert oracle["success"]["mean"] == 1.0 and oracle["extraction_failure_rate"]["mean"] == 0.0
    wrong = [e for e in results.episodes if e["policy"] == "answerer" and not e["success"]]
    assert wrong[0]["answer"] is None and wrong[0]["response"] == "I cannot decide."
    assert results.suites[0]["benchmark"]["skipped"] == 2


def test_qa_env_accepts_a_submit_answer_call_and_counts_a_malformed_one():
    items = read_benchmark("mcq", DATA / "mcq.jsonl").items
    env = QAEnv(items, mode="closed", benchmark="mcq")
    env.reset(seed=0, options={"task_id": "g3"})
    _, reward, terminated, _, info = env.step('<tool_call>{"name": "submit_answer", "arguments": {"answer": "B"}}</tool_call>')
    assert terminated and reward == 1.0 and info["answer"] == "B"
    env.reset(seed=0, options={"task_id": "g1"})
    _, reward, terminated, _, info = env.step('Phrenic nerve <tool_call>{"name": "submit_answer"</tool_call>')
    assert terminated and info["episode"]["invalid_calls"] == 1 and info["answer"] == "B"  # closed book: the text counts
    with pytest.raises(KeyError, match="no item 'zz'"):
        env.reset(options={"task_id": "zz"})


def test_agentic_mode_needs_the_search_tool():
    from medgym.eval.qaenv import search_tool

    items = read_benchmark("mcq", DATA / "mcq.jsonl").items
    if search_tool() is None:
        with pytest.raises(ValueError, match="agentic QA needs the search_knowledge tool"):
            QAEnv(items, mode="agentic")
    else:  # pragma: no cover - once medgym.knowledge registers search_knowledge
        env = QAEnv(items, mode="agentic")
        _, info = env.reset(seed=0, options={"task_id": "g1"})
        assert {t["function"]["name"] for t in info["tools"]} == {"submit_answer", "search_knowledge"}
