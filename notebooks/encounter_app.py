"""Play an encounter in the browser, no Jupyter needed:

    marimo run notebooks/encounter_app.py            # the app (127.0.0.1)
    marimo run notebooks/encounter_app.py -- --domain clinical_diagnosis --task-type diagnosis
    python notebooks/encounter_app.py                # runs every cell once, as a script

The same encounter as the notebook player (widgets.session, widgets.render), with
marimo controls: the tool form is generated from the tool's JSON schema and says
when a value has the wrong type.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="MedGym encounter")


@app.cell
def _():
    import marimo as mo

    from medgym.domains import DOMAINS
    from medgym.tasks import load_tasks
    from medgym.tools import get_tool, list_tools
    from widgets import render
    from widgets.marimo_ui import tool_form
    from widgets.player import HIDDEN_TOOLS, knowledge_notice
    from widgets.session import EncounterSession

    args = mo.cli_args()
    reward = str(args.get("reward") or "shaped")
    matcher = str(args.get("patient-matcher") or "hybrid")
    return (DOMAINS, EncounterSession, HIDDEN_TOOLS, args, get_tool, knowledge_notice, list_tools, load_tasks,
            matcher, mo, render, reward, tool_form)


@app.cell
def _(DOMAINS, args, load_tasks, mo, render):
    domains = [d for d in DOMAINS if load_tasks(domain=d)]
    wanted = args.get("domain")
    domain = mo.ui.dropdown(options={render.humanize(d): d for d in domains},
                            value=render.humanize(wanted if wanted in domains else domains[0]), label="Domain")
    return (domain,)


@app.cell
def _(args, domain, load_tasks, mo, render):
    types = sorted({t.task_type for t in load_tasks(domain=domain.value)})
    wanted_type = args.get("task-type")
    task_type = mo.ui.dropdown(options={"Any": None, **{render.humanize(t): t for t in types}},
                               value=render.humanize(wanted_type) if wanted_type in types else "Any",
                               label="Task type")
    return (task_type,)


@app.cell
def _(args, domain, load_tasks, mo, render, task_type):
    cases = load_tasks(domain=domain.value, task_type=task_type.value)
    labels = {render.case_label(t, i + 1): t.id for i, t in enumerate(cases)}
    first = next((k for k, v in labels.items() if v == args.get("task")), next(iter(labels)))
    case = mo.ui.dropdown(options=labels, value=first, label="Case", searchable=True)
    restart = mo.ui.run_button(label="Restart case")
    mo.hstack([domain, task_type, case, restart], justify="start", wrap=True)
    return case, restart


@app.cell
def _(EncounterSession, case, matcher, mo, restart, reward):
    restart.value  # pressing it starts the case afresh
    session = EncounterSession(case.value, reward=reward, patient_matcher=matcher)
    get_version, set_version = mo.state(0)
    get_status, set_status = mo.state("")
    return get_status, get_version, session, set_status, set_version


@app.cell
def _(knowledge_notice, mo, render, session):
    _hint = knowledge_notice(session.task.domain)
    mo.vstack([mo.Html(render.notice(_hint)) if _hint else mo.md(""),
               mo.Html(render.presentation_card(session.task))])
    return


@app.cell
def _(get_version, mo, render, session):
    get_version()
    _r = session.result
    (mo.Html(render.end_screen(session.task, session.submission, _r["total"], _r["terms"], _r["weights"],
                               _r["success"], session.episode.action_keys, session.preset))
     if _r else mo.md(""))
    return


@app.cell
def _(get_version, session, set_status, set_version):
    def act(name, arguments):
        """Run one tool (or the final submission) and re-draw."""
        if session.done:
            set_status("This encounter has ended. Restart the case or choose another.")
            return
        turn = session.call(name, arguments)
        errors = [c.get("error") for c in turn.tool_calls if not c.get("valid", True)]
        set_status("; ".join(e for e in errors if e))
        set_version(get_version() + 1)

    def ask(question):
        if not question or not question.strip():
            set_status("Type a question for the patient first.")
            return
        if session.done:
            set_status("This encounter has ended. Restart the case or choose another.")
            return
        session.ask(question)
        set_status("")
        set_version(get_version() + 1)
    return act, ask


@app.cell
def _(HIDDEN_TOOLS, list_tools, mo, render, session):
    _tools = [t for t in list_tools(session.task.domain) if t.kind != "submit" and t.name not in HIDDEN_TOOLS]
    tool = mo.ui.dropdown(options={render.humanize(t.name): t.name for t in _tools},
                          value=render.humanize(_tools[0].name), label="Tool", full_width=True)
    return (tool,)


@app.cell
def _(act, ask, get_tool, mo, session, tool, tool_form):
    ask_form = mo.ui.text(placeholder="Ask the patient, e.g. Does the pain spread anywhere?", full_width=True).form(
        submit_button_label="Ask", clear_on_submit=True, on_change=ask)
    order_form = tool_form(get_tool(tool.value), act, "Order / do it")
    final = session.task.truth.final_tool
    submit_form = tool_form(get_tool(final), act, "Submit")
    return ask_form, final, order_form, submit_form


@app.cell
def _(ask_form, final, get_status, get_version, mo, order_form, render, session, submit_form, tool):
    get_version()
    _status = get_status()
    _actions = mo.vstack([
        mo.md("**Ask the patient**"), ask_form,
        mo.md("**Examine, review the chart, order tests**"), tool, order_form,
        mo.md(f"**Final answer: {render.humanize(final)}**"), submit_form,
    ])
    _left = mo.vstack([mo.Html(render.conversation(session.messages)),
                       mo.callout(mo.md(_status), kind="danger") if _status else mo.md("")])
    mo.hstack([_left, _actions], widths=[3, 2], align="start")
    return


if __name__ == "__main__":
    app.run()
