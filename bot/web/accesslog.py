"""gunicorn's access log without the secrets in our paths: each line names the route (/chat/<token>), not the path.

Our paths carry tokens (a candidate's chat and page, the recruiter's sign-in key, feed and outcome links): a log
line with the path would hand them to anyone who reads the logs. The app notes the matched route in the WSGI
environ (ROUTE_KEY, set in bot/app.py); this logger, named in gunicorn.conf.py, writes that instead of the path,
and leaves out the query string and the referrer (which can hold the same tokens).
"""
from __future__ import annotations

from gunicorn.glogging import Logger

ROUTE_KEY = "sokuresu.route"
UNMATCHED = "(no route)"


class RouteLogger(Logger):
    """gunicorn's Logger with the path, query and referrer replaced by the matched route."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        route = environ.get(ROUTE_KEY, UNMATCHED)
        atoms.update(U=route, q="", f="-", r=f"{environ.get('REQUEST_METHOD', '-')} {route} "
                                             f"{environ.get('SERVER_PROTOCOL', '-')}")
        # Every raw environ and header atom could carry the path again (RAW_URI, PATH_INFO, Referer): drop them.
        for key in [k for k in atoms if k.endswith(("}e", "}i"))]:
            if key in ("{raw_uri}e", "{path_info}e", "{request_uri}e", "{query_string}e", "{referer}i"):
                atoms[key] = "-"
        return atoms
