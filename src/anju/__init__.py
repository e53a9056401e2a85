"""anju (安居): community public-safety analytics for a district public-security bureau.

The flow is ingest → lake → pure analytics → thin shells (release, web, CLI); see docs/architecture.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
