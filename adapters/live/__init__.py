"""Live updates: the outbox relay, the transports (in-process or Redis) and the per-process hub.

use case ──commit──▶ events (outbox) ──relay (one leader)──▶ transport ──▶ hub (every process)
                                                                         └──▶ sockets (fragments)
"""
