"""Everything that can happen to a case, resident or contact. Grep ``case_`` to see it all.

Views, API, admin actions, tasks and commands call these; nothing else writes those rows.
"""
