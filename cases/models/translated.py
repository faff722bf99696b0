from __future__ import annotations

from django.utils.translation import get_language


class TranslatedNameMixin:
    """``name`` in the active language, from the ``name_sv``/``name_da``/``name_en`` columns.

    Three plain columns instead of a translation table keep list pages at one query and make
    the shipped languages explicit (docs/adr/0006-translated-names.md).
    """

    name_sv: str
    name_da: str
    name_en: str

    @property
    def name(self) -> str:
        lang = (get_language() or "en")[:2]
        value = getattr(self, f"name_{lang}", "") if lang in ("sv", "da", "en") else ""
        return value or self.name_en or self.name_sv or self.name_da

    def __str__(self) -> str:
        return self.name
