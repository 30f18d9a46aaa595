"""Custom Rasa NLU graph components for the phone assistant (referenced from config.yml by module path)."""
