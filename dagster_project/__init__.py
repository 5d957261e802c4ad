"""Digital progress data platform: the Dagster code location and the stages it orchestrates."""
