"""Infrastructure adapters: database engine, job runner (and, later, the live hub)."""
