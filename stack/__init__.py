"""Starts and supervises the system's processes (stand-in, action server, Rasa)."""
