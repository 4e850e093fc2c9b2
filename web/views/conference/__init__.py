"""Pages of the joint conference. Each module exports its own `ROUTES`, listed in `web.routes`.

- `setup`    conference overview and set-up (members, secretariat, rotation, committees)
- `prepare`  topic call, sessions, agenda, materials, notice (.ics), replies (routes; handlers
             in `topic_call`, `session_files` and `prep_page`)
- `room`     the live meeting room: sign-in, agenda, speakers, notes, votes, decisions
- `minutes`  minutes: draft, edit, co-sign, issue, .docx and print; archive search
"""

import web.convertors  # noqa: F401  (the `id` path convertor, before any ROUTES are built)
