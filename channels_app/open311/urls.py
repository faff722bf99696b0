"""GeoReport v2 at /open311/v2/. Each resource answers with and without a format suffix.

The request detail route uses ``<reference>`` so the project's URL walk (tests/test_url_walk.py)
checks it like every other route that names a case. Service codes and tokens name no case;
their routes are regular expressions (the walk does not fill them).
"""

from django.urls import path, re_path

from channels_app.open311 import views

app_name = "open311"


def _formats(route: str, view, name: str) -> list:  # type: ignore[no-untyped-def]
    return [
        path(f"{route}.json", view, {"fmt": "json"}, name=f"{name}-json"),
        path(f"{route}.xml", view, {"fmt": "xml"}, name=f"{name}-xml"),
        path(route, view, {"fmt": "json"}, name=name),
    ]


urlpatterns = [
    *_formats("discovery", views.discovery, "discovery"),
    *_formats("services", views.service_list, "services"),
    re_path(
        r"^services/(?P<service_code>[-\w]+)\.(?P<fmt>json|xml)$",
        views.service_definition,
        name="service-format",
    ),
    re_path(r"^services/(?P<service_code>[-\w]+)$", views.service_definition, name="service"),
    *_formats("requests", views.requests, "requests"),
    *_formats("requests/<str:reference>", views.request_detail, "request"),
    re_path(r"^tokens/(?P<token>\d+)\.(?P<fmt>json|xml)$", views.token, name="token-format"),
    re_path(r"^tokens/(?P<token>\d+)$", views.token, name="token"),
]
