"""The HTTP API (FastAPI): `create_app(settings)` in `app.py`; routes under `/api/v1` call the
application's handlers and queries; problems are RFC 9457 JSON naming the field."""
