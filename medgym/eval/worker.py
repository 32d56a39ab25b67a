"""Imported once by the fork server that local evaluation workers start from (see runner._run_processes).

Importing it loads what every episode needs (the task store, the domains, every tool's JSON schema and
validator), so each forked worker starts warm instead of paying for them at its first episode. It only
loads data and imports; it starts no threads, so forking after it is safe.
"""

from medgym.tasks.store import _index
from medgym.tools import list_tools

_index()
for _spec in list_tools():
    _spec.schema  # noqa: B018 - cached properties: reading them builds the caches
    _spec._validator  # noqa: B018
