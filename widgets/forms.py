"""A tool's argument form, generated from its JSON schema, with type checking shown in the form.

Each schema property becomes a field: an enum a drop-down, a boolean a check
box, an array a box with one item per line, a number or integer a text box
whose content is parsed and checked, anything else a text box. Parameters
whose valid values a catalog lists (lab tests, imaging studies) get a drop-down
of the catalog. The parsed arguments are then checked against the schema by
the tool's own validator, so the form accepts exactly what the tool accepts.
"""

from __future__ import annotations

import json
import re
from html import escape
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as W

from medgym.tools import ToolError, ToolSpec
from medgym.tools import catalog
from widgets.render import humanize

BLANK = "—"
_INT = re.compile(r"^[+-]?\d+$")


def _lab_choices() -> list[tuple[str, str]]:
    panels = [(f"{name} (panel)", key) for key, name in catalog.lab_panels().items()]
    tests = sorted(((spec.get("name", key), key) for key, spec in catalog.labs().items()), key=lambda x: x[0].lower())
    return panels + tests


def _study_choices() -> list[tuple[str, str]]:
    return sorted(((spec.get("name", key), key) for key, spec in catalog.studies().items()), key=lambda x: x[0].lower())


# (tool, parameter) -> the catalog's (label, value) choices.
CHOICES: dict[tuple[str, str], Callable[[], list[tuple[str, str]]]] = {
    ("order_lab", "test"): _lab_choices,
    ("order_imaging", "study"): _study_choices,
}


CHOICE_HELP = {
    ("order_lab", "test"): "A test or panel from the laboratory catalog.",
    ("order_imaging", "study"): "A study from the imaging catalog.",
}
REQUIRED_MARK = ' <span style="color:#a61b1b" title="required">*</span>'


class FieldError(ValueError):
    """A value in one field that does not fit its type."""


def _type(prop: dict[str, Any]) -> str:
    t = prop.get("type", "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return t


def parse_scalar(text: str, kind: str) -> Any:
    """Parse one typed value from text; FieldError says what was expected."""
    text = text.strip()
    if kind == "integer":
        if not _INT.match(text):
            raise FieldError(f"must be a whole number, e.g. 3; got {text!r}")
        return int(text)
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            raise FieldError(f"must be a number, e.g. 7.5; got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldError(f"must be a finite number; got {text!r}")
        return value
    if kind == "boolean":
        low = text.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise FieldError(f"must be yes or no; got {text!r}")
    return text


@dataclass
class FieldSpec:
    """One argument of a tool as a form field, independent of the UI toolkit.

    control: "choice" (a drop-down of `options`, (label, value) pairs), "checkbox", "text" or "textarea".
    """

    name: str
    prop: dict[str, Any]
    required: bool
    control: str
    options: list[tuple[str, Any]]
    help: str

    @property
    def kind(self) -> str:
        return _type(self.prop)

    @property
    def label(self) -> str:
        return humanize(self.name)

    @property
    def type_label(self) -> str:
        return "choose one" if self.control == "choice" else _type_label(self.prop)

    def coerce(self, raw: Any) -> tuple[bool, Any]:
        """(present, value) from what the control holds; raises FieldError for a value of the wrong type."""
        kind = self.kind
        if self.control == "checkbox":
            return True, bool(raw)
        if self.control == "choice":
            if raw in (None, BLANK, ""):
                if self.required:
                    raise FieldError("choose a value")
                return False, None
            return True, parse_scalar(raw, kind) if kind == "boolean" else raw
        text = "" if raw is None else str(raw)
        if kind == "array":
            items = [line.strip() for line in re.split(r"[\n;]", text) if line.strip()]
            if not items:
                if self.required:
                    raise FieldError("enter at least one item, one per line")
                return False, None
            item_kind = _type(self.prop.get("items", {}))
            out = []
            for i, item in enumerate(items, 1):
                try:
                    out.append(parse_scalar(item, item_kind))
                except FieldError as exc:
                    raise FieldError(f"item {i} {exc}") from None
            return True, out
        if not text.strip():
            if self.required:
                raise FieldError("required")
            return False, None
        if kind == "object":
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise FieldError(f"must be a JSON object ({exc.msg})") from None
            if not isinstance(value, dict):
                raise FieldError("must be a JSON object, e.g. {\"key\": 1}")
            return True, value
        return True, parse_scalar(text, kind)


def field_specs(spec: ToolSpec) -> list[FieldSpec]:
    """The form fields of a tool, from its JSON schema (and the catalogs, for lab tests and studies)."""
    params = spec.schema["function"].get("parameters", {})
    required = set(params.get("required", []))
    out = []
    for name, prop in params.get("properties", {}).items():
        req = name in required
        kind = _type(prop)
        blank = [] if req else [(BLANK, BLANK)]
        options: list[tuple[str, Any]] = []
        if (spec.name, name) in CHOICES:
            control, options = "choice", blank + CHOICES[(spec.name, name)]()
        elif "enum" in prop:
            control, options = "choice", blank + [(humanize(v), v) for v in prop["enum"] if v is not None]
        elif kind == "boolean" and req:
            control = "checkbox"
        elif kind == "boolean":
            control, options = "choice", [(BLANK, BLANK), ("yes", "yes"), ("no", "no")]
        elif kind in ("array", "object"):
            control = "textarea"
        else:
            control = "text"
        out.append(FieldSpec(name, prop, req, control, options,
                             CHOICE_HELP.get((spec.name, name), prop.get("description", ""))))
    return out


def check_arguments(spec: ToolSpec, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Arguments from raw control values, or None and the problems ('' keys a problem of the whole form)."""
    args: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in field_specs(spec):
        try:
            present, value = f.coerce(raw.get(f.name))
        except FieldError as exc:
            errors[f.name] = f"{f.label}: {exc}"
            continue
        if present:
            args[f.name] = value
    if errors:
        return None, errors
    try:
        spec.validate(args)
    except ToolError as exc:
        return None, {"": str(exc).split(". Call it as")[0]}
    return args, {}


@dataclass
class Field:
    """A form field's ipywidgets: the control and the place its error is shown."""

    spec: FieldSpec
    widget: W.Widget
    error: W.HTML

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def required(self) -> bool:
        return self.spec.required


def _widget(f: FieldSpec) -> W.Widget:
    layout = W.Layout(width="96%")
    if f.control == "choice":
        return W.Dropdown(options=f.options, value=None if f.required else BLANK, layout=layout)
    if f.control == "checkbox":
        return W.Checkbox(value=False, indent=False)
    if f.control == "textarea":
        hint = "one per line" if f.kind == "array" else "JSON object"
        return W.Textarea(placeholder=hint, layout=W.Layout(width="96%", height="70px"))
    placeholder = {"integer": "whole number", "number": "number"}.get(f.kind, "")
    return W.Text(placeholder=placeholder, layout=layout)


class ToolForm(W.VBox):
    """The argument form of one tool. `arguments()` returns the checked arguments or None (errors shown)."""

    def __init__(self, spec: ToolSpec, **kwargs: Any) -> None:
        self.spec = spec
        self.fields: dict[str, Field] = {}
        rows: list[W.Widget] = []
        for f in field_specs(spec):
            widget = _widget(f)
            error = W.HTML("")
            error.add_class("medgym-field-error")
            widget.add_class(f"medgym-arg-{f.name}")
            self.fields[f.name] = Field(f, widget, error)
            star = REQUIRED_MARK if f.required else ""
            label = W.HTML(
                f"<b>{f.label}</b>{star} <span style='color:#627d98;font-size:12px'>({f.type_label})</span>"
                f"<div style='color:#627d98;font-size:12px;line-height:1.3'>{escape(f.help)}</div>"
            )
            rows.append(W.VBox([label, widget, error], layout=W.Layout(margin="0 0 6px 0")))
        if not rows:
            rows.append(W.HTML("<span style='color:#627d98'>No arguments needed.</span>"))
        self.form_error = W.HTML("")
        self.form_error.add_class("medgym-form-error")
        super().__init__(rows + [self.form_error], **kwargs)

    def clear_errors(self) -> None:
        for f in self.fields.values():
            f.error.value = ""
        self.form_error.value = ""

    @property
    def errors(self) -> dict[str, str]:
        """The error text shown per field, and under '' the form-level error."""
        out = {name: _strip(f.error.value) for name, f in self.fields.items() if f.error.value}
        if self.form_error.value:
            out[""] = _strip(self.form_error.value)
        return out

    def arguments(self) -> dict[str, Any] | None:
        """The arguments if every field is valid; otherwise None, with each problem shown under its field."""
        self.clear_errors()
        args, errors = check_arguments(self.spec, {n: f.widget.value for n, f in self.fields.items()})
        for name, text in errors.items():
            target = self.fields[name].error if name else self.form_error
            target.value = _error_html(text)
        return args

    def reset(self) -> None:
        self.clear_errors()
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, W.Checkbox):
                w.value = False
            elif isinstance(w, W.Dropdown):
                w.value = None if f.required else BLANK
            else:
                w.value = ""


def _type_label(prop: dict[str, Any]) -> str:
    kind = _type(prop)
    if "enum" in prop:
        return "choose one"
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}s, one per line"
    return {"string": "text", "integer": "whole number", "number": "number", "boolean": "yes/no",
            "object": "JSON object"}.get(kind, kind)


def _error_html(text: str) -> str:
    return f"<span style='color:#a61b1b;font-size:12px'>⚠ {escape(text)}</span>"


def _strip(html: str) -> str:
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html)).replace("⚠ ", "").strip()
