"""The tool registry: a tool is a typed function with a docstring.

Its JSON schema (the OpenAI / Hugging Face function-calling format) is derived
from the signature and docstring by `transformers.utils.get_json_schema`; it is
never written by hand. A parameter named `case` is injected by the environment
(the running `Encounter`) and is left out of the schema the agent sees.
"""

from __future__ import annotations

import difflib
import inspect
import json
import typing
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Literal

ToolKind = Literal["encounter", "calculator", "knowledge", "submit", "domain"]
CASE_PARAM = "case"


class ToolError(Exception):
    """A tool call the agent got wrong; the message tells it how to call correctly."""


@dataclass
class ToolOutput:
    """What a tool returns: the content the agent sees and the action keys it counts as."""

    content: Any
    action_keys: list[str] = field(default_factory=list)


@dataclass
class ToolSpec:
    """A registered tool."""

    name: str
    fn: Callable[..., Any]
    domains: tuple[str, ...]
    kind: ToolKind
    cost: float
    key_arg: str | None
    needs_case: bool = field(init=False)

    def __post_init__(self) -> None:
        self.needs_case = CASE_PARAM in inspect.signature(self.fn).parameters

    @property
    def domain(self) -> str | None:
        """The tool's (first) domain; None for a tool shared by every domain."""
        return self.domains[0] if self.domains else None

    def in_domain(self, domain: str) -> bool:
        return not self.domains or domain in self.domains

    @cached_property
    def schema(self) -> dict[str, Any]:
        """The function-calling schema, derived from the signature and docstring."""
        from transformers.utils import get_json_schema

        schema = get_json_schema(_without_case(self.fn))
        schema["function"]["name"] = self.name
        schema["function"]["description"] = summary(schema["function"]["description"])
        schema["function"].pop("return", None)
        return schema

    @property
    def description(self) -> str:
        """What the agent reads: the docstring's first paragraph."""
        return self.schema["function"]["description"]

    @property
    def doc(self) -> str:
        """The docstring's text before Args: the summary plus any formula, points table and source."""
        text = inspect.getdoc(self.fn) or ""
        return text.split("\nArgs:")[0].strip()

    @cached_property
    def _validator(self) -> Any:
        import jsonschema

        params = json.loads(json.dumps(self.schema["function"]["parameters"]))
        for prop in params.get("properties", {}).values():
            if prop.pop("nullable", False):
                prop["type"] = [prop["type"], "null"] if isinstance(prop.get("type"), str) else prop.get("type")
                if "enum" in prop:
                    prop["enum"] = [*prop["enum"], None]
        params["additionalProperties"] = False
        return jsonschema.Draft202012Validator(params)

    def usage(self) -> str:
        """A correct call of this tool, as the agent should write it."""
        props = self.schema["function"]["parameters"].get("properties", {})
        required = self.schema["function"]["parameters"].get("required", [])
        example = {k: _placeholder(v) for k, v in props.items() if k in required}
        return '<tool_call>{"name": "%s", "arguments": %s}</tool_call>' % (self.name, json.dumps(example))

    def validate(self, arguments: Any) -> None:
        """Raise ToolError naming every problem with `arguments`."""
        if not isinstance(arguments, dict):
            raise ToolError(
                f"Arguments for {self.name} must be a JSON object, got {type(arguments).__name__}. "
                f"Call it as {self.usage()}"
            )
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        if errors:
            problems = "; ".join(_describe(e) for e in errors[:5])
            raise ToolError(f"Invalid arguments for {self.name}: {problems}. Call it as {self.usage()}")


def summary(description: str) -> str:
    """The first paragraph of a docstring description, on one line: what the agent reads, so that
    formulas and references stay out of every prompt (they are in `ToolSpec.doc` and the knowledge base)."""
    return " ".join(description.strip().split("\n\n")[0].split())


def _without_case(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` as the agent sees it: the same docstring and signature, less the injected `case`."""
    signature = inspect.signature(fn)
    if CASE_PARAM not in signature.parameters:
        return fn

    def agent_view(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
        raise NotImplementedError

    hints = typing.get_type_hints(fn)
    agent_view.__name__ = fn.__name__
    agent_view.__doc__ = fn.__doc__
    agent_view.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != CASE_PARAM]
    )
    agent_view.__annotations__ = {k: v for k, v in hints.items() if k not in (CASE_PARAM, "return")}
    return agent_view


def _placeholder(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    return {"string": "<text>", "integer": 0, "number": 0.0, "boolean": False, "array": [], "object": {}}.get(
        prop.get("type", "string"), "<value>"
    )


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.path)
    if error.validator == "additionalProperties":
        return f"unexpected argument(s): {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "enum":
        options = ", ".join(repr(v) for v in error.validator_value if v is not None)
        return f"{where or 'value'} must be one of {options}"
    return f"{where + ': ' if where else ''}{error.message}"


_REGISTRY: dict[str, ToolSpec] = {}


def tool(
    *,
    domain: str | tuple[str, ...] | None = None,
    kind: ToolKind = "domain",
    cost: float = 0.0,
    key_arg: str | None = None,
    name: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a tool. `domain=None` makes it available in every domain;
    a tuple of domains offers it in each of them."""
    domains = (domain,) if isinstance(domain, str) else tuple(domain or ())

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        tool_name = name or fn.__name__
        existing = _REGISTRY.get(tool_name)
        if existing is not None and existing.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"tool {tool_name!r} is already registered by {existing.fn.__module__}")
        _REGISTRY[tool_name] = ToolSpec(tool_name, fn, domains, kind, cost, key_arg)
        return fn

    return register


def registered() -> dict[str, ToolSpec]:
    """All tools registered so far, by name (without loading the domains)."""
    return _REGISTRY


def run(spec: ToolSpec, arguments: dict[str, Any], case: Any = None) -> ToolOutput:
    """Validate `arguments`, call the tool and return its output with action keys."""
    spec.validate(arguments)
    if spec.needs_case and case is None:
        raise ToolError(f"{spec.name} reads the patient's chart and needs a case")
    kwargs = dict(arguments)
    if spec.needs_case:
        kwargs[CASE_PARAM] = case
    try:
        result = spec.fn(**kwargs)
    except ToolError:
        raise
    except (ValueError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise ToolError(f"{spec.name}: {message}") from exc
    if isinstance(result, ToolOutput):
        return result
    key = spec.name
    if spec.key_arg and spec.key_arg in arguments:
        key = f"{spec.name}:{arguments[spec.key_arg]}"
    return ToolOutput(result, [key])


def unknown_tool_message(name: str, available: list[str]) -> str:
    """The error an agent gets for a tool name that does not exist."""
    close = difflib.get_close_matches(str(name), available, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"Unknown tool {name!r}.{hint} Available tools: {', '.join(sorted(available))}."
