"""Task handoff between 条 and 块 (交办, 吹哨报到) and its supervision (督办)."""
