"""The joint activity calendar: planning, sign-up and check-in, settlement, feeds."""
