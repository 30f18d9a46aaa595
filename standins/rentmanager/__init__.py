"""A local Rent Manager 12 Web API stand-in: `create_app(...)` builds it, `python -m standins.rentmanager` runs it.

The contract it follows is shared/reference/rentmanager.md; the demo data is described in `seed`.
"""
from standins.rentmanager.app import create_app

__all__ = ["create_app"]
