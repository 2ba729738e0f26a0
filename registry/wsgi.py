"""gunicorn entry point: ``gunicorn registry.wsgi:app``.

The server gets the app behind two WSGI layers that only concern a real server's requests
(the test client and the app itself need neither):

- ``BodyDeadline``: a client that stops sending its request body frees its thread
  (registry/body_deadline.py);
- werkzeug's ``ProxyFix`` when ``REGISTRY_PROXY_HOPS`` proxies stand in front: the client's
  address (per-address limits of anonymous calls) and scheme come from the entries those
  proxies appended to X-Forwarded-For and X-Forwarded-Proto, never from what a client sent.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

from registry import create_app
from registry.body_deadline import BodyDeadline
from registry.state import state_of

flask_app = create_app()
_settings = state_of(flask_app).settings
_hops = _settings.proxy_hops
app = BodyDeadline(
    ProxyFix(flask_app, x_for=_hops, x_proto=_hops) if _hops else flask_app,
    timeout=_settings.body_read_timeout,
    min_rate=_settings.body_min_rate,
)
