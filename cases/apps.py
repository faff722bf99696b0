from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The case core: cases, contacts, residents, departments, agreements, calendars."""

    name = "cases"

    def ready(self) -> None:
        from cases.services.escalation import escalation_on_transition
        from cases.services.hooks import register_transition_hook

        # Escalation ladders are planned, moved and cancelled with the transitions (ADR 0019).
        register_transition_hook("escalation", escalation_on_transition)
