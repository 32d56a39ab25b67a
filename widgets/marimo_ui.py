"""marimo controls for the encounter app (`notebooks/encounter_app.py`): a tool's form from its JSON schema."""

from __future__ import annotations

from html import escape
from typing import Any, Callable

import marimo as mo

from medgym.tools import ToolSpec
from widgets.forms import BLANK, check_arguments, field_specs


def tool_form(spec: ToolSpec, on_run: Callable[[str, dict[str, Any]], None], label: str) -> Any:
    """A marimo form for `spec`; its `validate` shows wrong types in the form, and a valid submission
    calls `on_run(tool name, arguments)`. A tool without arguments is a plain button."""
    fields = field_specs(spec)
    if not fields:
        return mo.ui.button(label=label, kind="success", on_click=lambda _: on_run(spec.name, {}))
    elements: dict[str, Any] = {}
    rows = []
    for f in fields:
        if f.control == "choice":
            elements[f.name] = mo.ui.dropdown(options=dict(f.options), value=None if f.required else BLANK,
                                              full_width=True)
        elif f.control == "checkbox":
            elements[f.name] = mo.ui.checkbox()
        elif f.control == "textarea":
            elements[f.name] = mo.ui.text_area(placeholder="one per line", full_width=True, rows=3)
        else:
            hint = {"integer": "whole number", "number": "number"}.get(f.kind, f.label)
            elements[f.name] = mo.ui.text(placeholder=hint, full_width=True)
        star = ' <span style="color:#a61b1b" title="required">*</span>' if f.required else ""
        rows.append(
            f"<div style='margin:2px 0 8px 0'><b>{_braces(f.label)}</b>{star} "
            f"<span style='color:#627d98;font-size:12px'>({_braces(f.type_label)})</span>"
            f"<div style='color:#627d98;font-size:12px;line-height:1.3;margin-bottom:2px'>{_braces(escape(f.help))}</div>"
            f"{{{f.name}}}</div>"
        )
    choices = {f.name: dict(f.options) for f in fields if f.control == "choice"}

    def values(raw: dict[str, Any] | None) -> dict[str, Any]:
        out = {}
        for name, value in (raw or {}).items():
            if name in choices:  # the browser sends the chosen option's label
                value = choices[name].get(value[0]) if isinstance(value, list) and value else None
            out[name] = value
        return out

    def validate(raw: dict[str, Any] | None) -> str | None:
        _, errors = check_arguments(spec, values(raw))
        return "; ".join(errors.values()) or None

    def submitted(value: dict[str, Any] | None) -> None:
        if value is None:
            return
        args, _ = check_arguments(spec, value)
        if args is not None:
            on_run(spec.name, args)

    batch = mo.Html("".join(rows)).batch(**elements)
    return batch.form(submit_button_label=label, validate=validate, on_change=submitted)


def _braces(text: str) -> str:
    """Text safe inside a `batch` template, where {name} marks an element."""
    return text.replace("{", "{{").replace("}", "}}")
