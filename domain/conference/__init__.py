"""The joint conference (党建联席会议): set-up, topic call, sessions, meeting room, minutes.

Every use case takes the actor and checks it through `access.py`: only the
convener or the secretariat manage; liaisons act for their own member units;
observers and other readers of the street read.
"""
