"""hydratrack benchmarks against ClearML (offline) and MLflow (SQLite); see docs/benchmarks.md."""
