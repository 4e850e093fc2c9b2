"""Gongjian's domain: entities, rules, permissions and services.

Nothing here imports Starlette, Jinja, Redis or arq. Services take a unit of
work and an `Actor`, check permission themselves, and raise `DomainError`s
that carry the HTTP status the web layer should answer with.
"""
