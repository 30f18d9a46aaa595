"""Checks that the stand-ins answer in the shapes the reference documents record."""
