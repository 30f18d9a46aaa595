"""Tests of the local stand-ins, over real HTTP."""
