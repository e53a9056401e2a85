"""CLI command groups. Each module defines ``register(app)`` and owns its verbs; ``anju.cli`` mounts them all.

Keeping one module per part lets the parts grow without touching each other's code.
"""

COMMAND_MODULES = ("lake", "areas", "ingest", "demo", "text", "spatial", "forecast", "release", "ops", "serve",
                   "duty")
