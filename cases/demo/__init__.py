"""Demo data for "Exempelstad kommun": the static catalogue and a reproducible history.

- ``catalogue``: calendars, departments, categories, agreements, staff (plain data);
- ``configure``: writes the catalogue idempotently through the ORM;
- ``people``, ``texts``: residents with valid identity numbers, Swedish words;
- ``clock``: epoch-second time, office hours, fast timestamp text;
- ``generator``: the days, volumes, channel mix and time of day of the history;
- ``lifecycle`` on ``recorder``: one case played through the state machine into row tuples;
- ``benchcase``: the scripted 50-entry "BENCH-CASE-20" case;
- ``writer``: COPY on PostgreSQL (in a background connection), executemany elsewhere.

The ``seed_demo`` management command drives it all.
"""
