"""Tools: the registry, the shared encounter tools and calculators, and the domains' tools.

`list_tools(domain)` gives the tools offered in a domain (the shared ones plus
the domain's own); `call_tool(name, arguments, case)` runs one.
"""

from __future__ import annotations

from typing import Any

from medgym.tools.registry import ToolError, ToolOutput, ToolSpec, registered, run, tool, unknown_tool_message

__all__ = ["ToolError", "ToolOutput", "ToolSpec", "tool", "list_tools", "get_tool", "call_tool", "call_cost"]


def _load() -> dict[str, ToolSpec]:
    import medgym.tools.calculators  # noqa: F401  (registers the calculators)
    import medgym.tools.encounter  # noqa: F401  (registers the encounter tools)
    import medgym.knowledge.tools  # noqa: F401  (registers search_knowledge)
    from medgym.domains import load_domains

    load_domains()
    return registered()


def list_tools(domain: str | None = None) -> list[ToolSpec]:
    """Tools in `domain` (shared + the domain's own), or every tool when domain is None; sorted by name."""
    tools = _load().values()
    return sorted((t for t in tools if domain is None or t.in_domain(domain)), key=lambda t: t.name)


def get_tool(name: str) -> ToolSpec:
    tools = _load()
    if name not in tools:
        raise ToolError(unknown_tool_message(name, list(tools)))
    return tools[name]


def call_tool(name: str, arguments: dict[str, Any] | None = None, case: Any = None) -> Any:
    """Run a tool and return what the agent would see. `case` may be a Task or an Encounter."""
    from medgym.encounter import Encounter
    from medgym.tasks.schema import Task

    if isinstance(case, Task):
        case = Encounter(case)
    return run(get_tool(name), arguments or {}, case).content


def call_cost(name: str, arguments: Any) -> float:
    """Resource units a call uses (a study's own cost for imaging, else the tool's)."""
    from medgym.tools import catalog

    if name == "order_imaging" and isinstance(arguments, dict):
        study = str(arguments.get("study", "")).strip().lower()
        return catalog.study_cost(study) if study in catalog.studies() else 0.0
    spec = _load().get(name)
    return spec.cost if spec else 0.0
