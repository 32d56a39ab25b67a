"""`EncounterPlayer`: a clinician plays one case, or watches an agent play it turn by turn.

    from widgets import EncounterPlayer
    player = EncounterPlayer(domain="clinical_diagnosis")
    player                       # in a notebook cell

Play mode: the presentation card, the conversation, a box to ask the patient,
a tool picker with a form generated from the tool's JSON schema, and the final
submission form. Watch mode: load an agent (scripted, oracle, or a model
directory) and step through its turns (previous, next, auto-play), with the
tokens of every turn and its tool calls highlighted. At the end, the score with
its reward breakdown, the correct answer and the rationale.
"""

from __future__ import annotations

import os
import random
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from medgym.domains import DOMAINS
from medgym.paths import kb_dir
from medgym.tasks import load_tasks
from medgym.tasks.schema import Task
from medgym.tools import get_tool, list_tools
from widgets import render
from widgets.forms import ToolForm
from widgets.session import AgentRun, EncounterSession, Turn, load_policy

ANY = "any"
KB_BUILD_HINT = ("The knowledge index is not built, so search_knowledge cannot answer: run `medgym kb build --small` "
                 "(or `medgym kb build` for the full index) first.")
HIDDEN_TOOLS = {"ask_patient"}  # the ask box says the same to the patient
TOOL_CALL_COLOR, TALK_COLOR = "#2680c2", "#9fb3c8"


def _tasks(domain: str | None, task_type: str | None, split: str | None) -> list[Task]:
    return load_tasks(split=split, domain=domain, task_type=None if task_type in (None, ANY) else task_type)


def knowledge_notice(domain: str) -> str | None:
    """What to do when the domain's tools search a knowledge index that has not been built."""
    if not any(t.name == "search_knowledge" for t in list_tools(domain)):
        return None
    index = kb_dir()
    if os.environ.get("MEDGYM_CHROMA_URL") or (index.is_dir() and any(index.iterdir())):
        return None  # a Chroma server, or an index on disk
    return KB_BUILD_HINT + f" (looked in {index})"


class EncounterPlayer(W.VBox):
    """Play or watch one encounter. Drive it by clicking, or from Python through the same widgets."""

    def __init__(self, domain: str | None = None, task_type: str | None = None, task_id: str | None = None,
                 split: str | None = None, reward: str = "shaped", max_turns: int = 24, seed: int = 0,
                 patient_matcher: str = "hybrid") -> None:
        self.split, self.reward, self.max_turns, self.seed = split, reward, max_turns, seed
        self.patient_matcher = patient_matcher
        self.session: EncounterSession | None = None
        self.agent_run: AgentRun | None = None
        self.view_turn = -1
        self._rng = random.Random(seed)

        domains = [d for d in DOMAINS if load_tasks(split=split, domain=d)]
        if not domains:
            raise ValueError(f"no tasks in split {split!r}; see `medgym tasks`")
        if task_id is not None:
            from medgym.tasks import get_task

            domain = get_task(task_id).domain
        if domain is not None and domain not in domains:
            raise ValueError(f"no tasks for domain {domain!r} in split {split!r}; domains with tasks: {', '.join(domains)}")
        # --- case selection ---
        self.domain_picker = W.Dropdown(description="Domain", options=[(render.humanize(d), d) for d in domains],
                                        value=domain or domains[0], layout=W.Layout(width="260px"))
        self.type_picker = W.Dropdown(description="Task type", layout=W.Layout(width="240px"))
        self.case_picker = W.Dropdown(description="Case", layout=W.Layout(width="440px"))
        self.case_id = W.Text(placeholder="or a case id", layout=W.Layout(width="230px"))
        self.start_button = W.Button(description="Start case", button_style="primary", icon="play",
                                     layout=W.Layout(width="auto"))
        self.random_button = W.Button(description="Random case", icon="random", layout=W.Layout(width="auto"))
        self.mode = W.ToggleButtons(options=["Play yourself", "Watch an agent"], value="Play yourself")
        for w, cls in [(self.case_picker, "medgym-case"), (self.start_button, "medgym-start"),
                       (self.mode, "medgym-mode"), (self.case_id, "medgym-case-id")]:
            w.add_class(cls)
        self.domain_picker.observe(self._on_domain, "value")
        self.type_picker.observe(self._on_type, "value")
        self.start_button.on_click(lambda _: self.start())
        self.random_button.on_click(lambda _: self.start_random())
        self.mode.observe(self._on_mode, "value")

        # --- the case and the conversation ---
        self.card = W.HTML()
        self.card.add_class("medgym-card")
        self.conversation = W.HTML()
        self.conversation.add_class("medgym-conversation")
        self.notice = W.HTML()
        self.status = W.HTML()
        self.status.add_class("medgym-status")
        self.end = W.HTML()
        self.end.add_class("medgym-end")

        # --- play: ask, tools, submit ---
        self.ask_text = W.Text(placeholder="Ask the patient, e.g. Does the pain spread anywhere?",
                               layout=W.Layout(width="auto", flex="1"))
        self.ask_text.add_class("medgym-ask")
        self.ask_button = W.Button(description="Ask", icon="comment", layout=W.Layout(width="80px"))
        self.ask_button.add_class("medgym-ask-button")
        self.ask_button.on_click(lambda _: self._ask())
        self.ask_text.on_submit(lambda _: self._ask())  # Enter in the box asks too (ipywidgets 8 still supports it)
        self.tool_picker = W.Dropdown(layout=W.Layout(width="96%"))
        self.tool_picker.add_class("medgym-tool")
        self.tool_picker.observe(self._on_tool, "value")
        self.tool_help = W.HTML()
        self.tool_form_box = W.VBox()
        self.tool_form: ToolForm | None = None
        self.run_button = W.Button(description="Order / do it", icon="flask", button_style="info",
                                   layout=W.Layout(width="auto"))
        self.run_button.add_class("medgym-run-tool")
        self.run_button.on_click(lambda _: self._run_tool())
        self.submit_title = W.HTML()
        self.submit_form_box = W.VBox()
        self.submit_form: ToolForm | None = None
        self.submit_button = W.Button(description="Submit", icon="check", button_style="success",
                                      layout=W.Layout(width="auto"))
        self.submit_button.add_class("medgym-submit")
        self.submit_button.on_click(lambda _: self._submit())
        self.play_panel = W.VBox([
            self.status, W.HTML("<b>Ask the patient</b>"), W.HBox([self.ask_text, self.ask_button]),
            W.HTML("<hr style='margin:6px 0'><b>Examine, review the chart, order tests</b>"),
            self.tool_picker, self.tool_help, self.tool_form_box, self.run_button,
            W.HTML("<hr style='margin:6px 0'>"), self.submit_title, self.submit_form_box, self.submit_button,
        ], layout=W.Layout(width="39%", margin="0 0 0 12px"))

        # --- watch: agent and stepping ---
        self.agent_picker = W.Dropdown(description="Agent", options=[
            ("Scripted clinician", "scripted"), ("Oracle (replays the ideal work-up)", "oracle"),
            ("Default model (medgym model build)", "default"), ("Model directory…", "model")], value="scripted", layout=W.Layout(width="96%"))
        self.agent_picker.add_class("medgym-agent")
        self.model_path = W.Text(placeholder="path to a Hugging Face model directory or checkpoint",
                                 layout=W.Layout(width="96%", display="none"))
        self.agent_picker.observe(lambda c: setattr(self.model_path.layout, "display",
                                                    "" if c["new"] == "model" else "none"), "value")
        self.load_button = W.Button(description="Load agent", icon="user-md", button_style="primary")
        self.load_button.add_class("medgym-load-agent")
        self.load_button.on_click(lambda _: self.load_agent())
        self.prev_button = W.Button(description="Previous", icon="step-backward", layout=W.Layout(width="110px"))
        self.next_button = W.Button(description="Next", icon="step-forward", layout=W.Layout(width="110px"))
        self.end_button = W.Button(description="Run to end", icon="fast-forward", layout=W.Layout(width="120px"))
        self.autoplay = W.Play(value=0, min=0, max=max_turns, step=1, interval=1200, show_repeat=False,
                               description="Auto-play")
        self.prev_button.on_click(lambda _: self.show_turn(self.view_turn - 1))
        self.next_button.on_click(lambda _: self.next_turn())
        self.end_button.on_click(lambda _: self.run_to_end())
        self.autoplay.observe(self._on_autoplay, "value")
        self.turn_info = W.HTML()
        self.turn_info.add_class("medgym-turn-info")
        self.token_plot = go.FigureWidget(layout=go.Layout(
            height=220, width=400, autosize=False, margin={"l": 40, "r": 10, "t": 30, "b": 35}, template="plotly_white",
            title={"text": "Tokens per turn (blue: with tool calls)", "font": {"size": 12}},
            xaxis={"title": "turn", "dtick": 1}, yaxis={"title": "tokens"}, showlegend=False))
        self.token_plot.add_bar(x=[], y=[], marker={"color": []}, name="tokens")
        self.watch_panel = W.VBox([
            self.status, self.agent_picker, self.model_path, self.load_button,
            W.HBox([self.prev_button, self.next_button, self.end_button]), self.autoplay,
            self.turn_info, self.token_plot,
        ], layout=W.Layout(width="39%", margin="0 0 0 12px", display="none"))

        self.conversation_box = W.VBox([self.conversation], layout=W.Layout(width="60%"))
        body = W.HBox([self.conversation_box, self.play_panel, self.watch_panel])
        header = W.VBox([
            W.HBox([self.domain_picker, self.type_picker], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.case_picker, self.case_id, self.start_button, self.random_button],
                   layout=W.Layout(flex_flow="row wrap")),
            self.mode,
        ])
        super().__init__([header, self.notice, self.card, self.end, body])
        self.add_class("medgym-player")
        self._refresh_types(task_type)
        if task_id is not None:
            self.start(task_id)

    # --- case selection -------------------------------------------------------------------------------

    def _refresh_types(self, task_type: str | None = None) -> None:
        types = sorted({t.task_type for t in _tasks(self.domain_picker.value, None, self.split)})
        self.type_picker.options = [("Any", ANY)] + [(render.humanize(t), t) for t in types]
        self.type_picker.value = task_type if task_type in types else ANY
        self._refresh_cases()

    def _refresh_cases(self) -> None:
        tasks = _tasks(self.domain_picker.value, self.type_picker.value, self.split)
        current = self.case_picker.value
        self.case_picker.options = [(render.case_label(t, i + 1), t.id) for i, t in enumerate(tasks)]
        ids = [t.id for t in tasks]
        self.case_picker.value = current if current in ids else (ids[0] if ids else None)

    def _on_domain(self, change: dict[str, Any]) -> None:
        self._refresh_types()

    def _on_type(self, change: dict[str, Any]) -> None:
        self._refresh_cases()

    # --- starting a case ------------------------------------------------------------------------------

    def start(self, task_id: str | None = None) -> None:
        """Start the case `task_id` (or the one in the id box, or the one selected)."""
        task_id = task_id or self.case_id.value.strip() or self.case_picker.value
        if not task_id:
            self._status("Choose a case first.", error=True)
            return
        try:
            self.session = EncounterSession(task_id, self.reward, self.max_turns, self.seed, self.patient_matcher)
        except (KeyError, ValueError) as exc:
            self._status(str(exc.args[0] if exc.args else exc), error=True)
            return
        self.agent_run = None
        self.view_turn = -1
        task = self.session.task
        self._select(task)
        self.card.value = render.presentation_card(task)
        hint = knowledge_notice(task.domain)
        self.notice.value = render.notice(hint) if hint else ""
        self.end.value = ""
        self._status("")
        self._build_tools(task)
        self._enable(True)
        self._render()
        self._plot_tokens()

    def _select(self, task: Task) -> None:
        """Show the started case in the selectors (and clear the id box)."""
        if self.domain_picker.value != task.domain:
            self.domain_picker.value = task.domain
        if self.type_picker.value not in (ANY, task.task_type):
            self.type_picker.value = ANY
        if task.id in [v for _, v in self.case_picker.options]:
            self.case_picker.value = task.id
        self.case_id.value = ""

    def _enable(self, on: bool) -> None:
        for w in (self.ask_text, self.ask_button, self.run_button, self.submit_button):
            w.disabled = not on

    def start_random(self) -> None:
        options = [v for _, v in self.case_picker.options]
        if options:
            self.case_id.value = ""
            self.start(self._rng.choice(options))

    def _build_tools(self, task: Task) -> None:
        final = task.truth.final_tool
        tools = [t for t in list_tools(task.domain) if t.kind != "submit" and t.name not in HIDDEN_TOOLS]
        self.tool_picker.options = [(render.humanize(t.name), t.name) for t in tools]
        self.tool_picker.value = tools[0].name if tools else None
        self._on_tool({"new": self.tool_picker.value})
        self.submit_form = ToolForm(get_tool(final))
        self.submit_form.add_class("medgym-submit-form")
        self.submit_form_box.children = [self.submit_form]
        self.submit_title.value = f"<b>Final answer: {render.humanize(final)}</b>"
        self.submit_button.description = render.humanize(final)

    def _on_tool(self, change: dict[str, Any]) -> None:
        name = change["new"]
        if not name:
            self.tool_form_box.children = []
            return
        spec = get_tool(name)
        self.tool_form = ToolForm(spec)
        self.tool_form.add_class("medgym-tool-form")
        self.tool_form_box.children = [self.tool_form]
        self.tool_help.value = (f"<div style='color:#627d98;font-size:12px;line-height:1.3;margin:2px 0 6px 0'>"
                                f"{render.escape(spec.description.splitlines()[0])}</div>")

    # --- playing --------------------------------------------------------------------------------------

    def _ready(self) -> bool:
        if self.session is None:
            self._status("Start a case first.", error=True)
            return False
        if self.session.done:
            self._status("This encounter has ended. Start a new case.", error=True)
            return False
        return True

    def _ask(self) -> None:
        if not self._ready():
            return
        question = self.ask_text.value
        if not question.strip():
            self._status("Type a question for the patient first.", error=True)
            return
        self.session.ask(question)
        self.ask_text.value = ""
        self._after_turn()

    def _run_tool(self) -> None:
        if not self._ready() or self.tool_form is None:
            return
        args = self.tool_form.arguments()
        if args is None:
            self._status("Fix the highlighted fields.", error=True)
            return
        turn = self.session.call(self.tool_form.spec.name, args)
        self._after_turn(turn)

    def _submit(self) -> None:
        if not self._ready() or self.submit_form is None:
            return
        args = self.submit_form.arguments()
        if args is None:
            self._status("Fix the highlighted fields.", error=True)
            return
        self._after_turn(self.session.submit(args))

    def _after_turn(self, turn: Turn | None = None) -> None:
        errors = [c for c in (turn.tool_calls if turn else []) if not c.get("valid", True)]
        self._status("; ".join(c.get("error") or "" for c in errors), error=bool(errors))
        self._render()
        if self.session.done:
            self._enable(False)
            self._show_end()

    # --- watching -------------------------------------------------------------------------------------

    def load_agent(self, agent: str | None = None) -> bool:
        """Load an agent (`scripted`, `oracle` or a model directory) and put it on the current case."""
        spec = agent or (self.model_path.value if self.agent_picker.value == "model" else self.agent_picker.value)
        if self.session is None:
            self.start()
            if self.session is None:
                return False
        try:
            policy = load_policy(spec)
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            self._status(str(exc), error=True)
            return False
        task_id = self.session.task.id
        self.agent_run = AgentRun(policy, task_id, self.reward, self.max_turns, self.seed, self.patient_matcher)
        self.session = self.agent_run.session
        self.view_turn = -1
        self.end.value = ""
        self.autoplay.value = 0
        self._status(f"{getattr(policy, 'name', spec)} loaded; tokens counted with the "
                     f"{self.agent_run.counter.name}. Press Next.")
        self._render()
        self._plot_tokens()
        return True

    def watch(self, agent: str = "scripted", task_id: str | None = None) -> bool:
        """Switch to watch mode with `agent` on `task_id` (or the current case)."""
        self.mode.value = "Watch an agent"
        if task_id:
            self.start(task_id)
        return self.load_agent(agent)

    def next_turn(self) -> None:
        """Show the next turn, letting the agent take it if it has not yet."""
        run = self.agent_run
        if run is None:
            self._status("Load an agent first.", error=True)
            return
        if self.view_turn + 1 >= len(run.turns):
            if run.done:
                self._status("The encounter has ended.")
                self.autoplay.playing = False
                return
            run.advance()
        self.show_turn(self.view_turn + 1)

    def run_to_end(self) -> None:
        if self.agent_run is None:
            self._status("Load an agent first.", error=True)
            return
        self.agent_run.run()
        self.show_turn(len(self.agent_run.turns) - 1)

    def show_turn(self, index: int) -> None:
        """Show the encounter up to turn `index` (0-based), highlighting it."""
        if self.agent_run is None or not self.agent_run.turns:
            return
        index = max(0, min(index, len(self.agent_run.turns) - 1))
        self.view_turn = index
        turn = self.agent_run.turns[index]
        calls = [c["name"] for c in turn.tool_calls if c["name"] != "patient"]
        self.turn_info.value = (
            f"<b>Turn {index + 1}</b> of {len(self.agent_run.turns)}{'' if self.agent_run.done else '+'} · "
            f"{turn.tokens} tokens · " + (f"tool calls: {', '.join(calls)}" if calls else "no tool call")
            + f"<div style='color:#627d98;font-size:11px'>tokens counted with the {self.agent_run.counter.name}</div>"
        )
        self._status("")
        self._render()
        self._plot_tokens()
        last = index == len(self.agent_run.turns) - 1
        if self.agent_run.done and last:
            self._show_end()
        else:
            self.end.value = ""

    def _on_autoplay(self, change: dict[str, Any]) -> None:
        if self.agent_run is not None and change["new"] > 0:
            self.next_turn()

    def _on_mode(self, change: dict[str, Any]) -> None:
        watch = change["new"] == "Watch an agent"
        self.play_panel.layout.display = "none" if watch else ""
        self.watch_panel.layout.display = "" if watch else "none"
        if not watch and self.agent_run is not None:
            self.start(self.session.task.id)  # a fresh encounter to play yourself

    # --- views ----------------------------------------------------------------------------------------

    def _render(self) -> None:
        if self.session is None:
            self.conversation.value = ""
            return
        messages = self.session.messages
        tokens = None
        current = None
        if self.agent_run is not None:
            tokens = [t.tokens for t in self.agent_run.turns]
            shown = self.view_turn + 1
            cut = len(messages) if shown >= len(self.agent_run.turns) else self._message_index(shown)
            messages = messages[:cut]
            current = self.view_turn
        self.conversation.value = render.conversation(messages, tokens, current, technical=self.agent_run is not None)

    def _message_index(self, turns: int) -> int:
        """Index in the messages where the `turns`-th assistant turn starts (presentation = 2 messages)."""
        seen = 0
        for i, m in enumerate(self.session.messages):
            if m["role"] == "assistant":
                if seen == turns:
                    return i
                seen += 1
        return len(self.session.messages)

    def _plot_tokens(self) -> None:
        turns = self.agent_run.turns if self.agent_run else []
        xs = [t.index + 1 for t in turns]
        ys = [t.tokens or 0 for t in turns]
        colors = [TOOL_CALL_COLOR if any(c["name"] != "patient" for c in t.tool_calls) else TALK_COLOR for t in turns]
        widths = [3 if t.index == self.view_turn else 0 for t in turns]
        with self.token_plot.batch_update():
            bar = self.token_plot.data[0]
            bar.x, bar.y = xs, ys
            bar.marker.color = colors
            bar.marker.line = {"width": widths, "color": "#102a43"}

    def _show_end(self) -> None:
        s = self.session
        result = s.result
        self.end.value = render.end_screen(s.task, s.submission, result["total"], result["terms"], result["weights"],
                                           result["success"], s.episode.action_keys, s.preset)

    def _status(self, text: str, error: bool = False) -> None:
        color = "#a61b1b" if error else "#334e68"
        self.status.value = f"<div style='color:{color};padding:4px 0'>{render.escape(text)}</div>" if text else ""

    # --- for tests and notebooks ----------------------------------------------------------------------

    @property
    def transcript(self) -> str:
        return self.session.transcript() if self.session else ""

    @property
    def result(self) -> dict[str, Any] | None:
        return self.session.result if self.session else None

    @property
    def status_text(self) -> str:
        from widgets.forms import _strip

        return _strip(self.status.value)
