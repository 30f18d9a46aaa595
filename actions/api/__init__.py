"""One small client per external service; each takes its settings in the constructor."""
