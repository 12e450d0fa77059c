"""Customer analytics: features, segments, recommendations, loyalty tiers and care tasks.

Pipelines are written once and run on DuckDB (embedded) or Spark (many branches).
"""
