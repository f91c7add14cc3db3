"""Security headers on every response: what a browser may load, frame, send on and keep."""
from __future__ import annotations

from flask import Flask, request

# Everything we serve is our own: scripts and styles from /static only (no inline code to allow), images
# also from the company's https content (video thumbnails), never framed, forms post only to us.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000"


def install(app: Flask, https: bool) -> None:
    @app.after_request
    def security_headers(res):
        h = res.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")  # for browsers that predate frame-ancestors
        # Most of our pages carry a token in their path (/chat/<token>, /c/<signed>, /recruiter/login/<key>):
        # a link followed from them must not hand it to the next site.
        h.setdefault("Referrer-Policy", "no-referrer")
        if https:
            h.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith("/static/"):
            h.setdefault("Cache-Control", "no-store")  # personal pages and answers: never kept by a cache
        return res
