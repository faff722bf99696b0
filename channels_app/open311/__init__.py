"""The Open311 GeoReport v2 server, mounted at /open311/v2/ (JSON and XML).

- ``urls.py``, ``views.py``: the endpoints (discovery, services, service definitions, POST and
  GET of requests, tokens); thin views around one selector or service each.
- ``inputs.py``: reading a POSTed request and the GET filters; field values are validated by
  ``channels_app.eservice.fields`` like the web form's.
- ``services.py``: API clients (keys stored as SHA-256 only) and ``open311_request_submit``:
  record raw with an idempotency key, then process at once through ``channels_app.intake``.
- ``processor.py``: the intake processor for sources ``open311:<client id>``.
- ``selectors.py``: what is offered and what is public (``public_requests``).
- ``render.py``: one data shape rendered as JSON or XML; the spec's error format.
- ``admin.py``: API clients in the admin (imported by ``channels_app/admin.py``).
"""
