"""gunicorn entry point: ``gunicorn registry.wsgi:app``.

The server gets the app behind ``BodyDeadline``: a client that stops sending its request
body frees its thread (registry/body_deadline.py). That guards the real server's sockets;
the test client and the app itself need no such guard.
"""

from registry import create_app
from registry.body_deadline import BodyDeadline
from registry.state import state_of

flask_app = create_app()
_settings = state_of(flask_app).settings
app = BodyDeadline(flask_app, timeout=_settings.body_read_timeout, min_rate=_settings.body_min_rate)
