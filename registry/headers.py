"""Security headers on every response; a Content-Security-Policy on the HTML pages.

The pages (`/verify`, `/docs`, `/portal/...`) load scripts, styles and images from this origin
only, with no inline script or style (Swagger UI sets styles through the DOM, which the policy
allows); no page may be framed, and no response is content-sniffed or sends a referrer.
"""

from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
