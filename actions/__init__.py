"""The action server's package: custom actions, and the clients they call (actions/api)."""
