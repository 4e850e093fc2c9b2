"""Background jobs. Run by arq workers (with REDIS_URL) or in-process (embedded mode).

Jobs are at-least-once under arq: each must be safe to run twice.
"""
