"""The project's tests, one folder per package."""
