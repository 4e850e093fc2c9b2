"""Gongjian (共建): application wiring — configuration, CLI, bootstrap."""
