from django.apps import AppConfig


class KnowledgebaseConfig(AppConfig):
    """Knowledge articles, versions and search (filled by a later issue)."""

    name = "knowledgebase"
