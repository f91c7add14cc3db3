# Read by gunicorn from the working directory (the Procfile's `web` process).
# Access log on stdout, one line per request, naming the route instead of the path: our paths hold tokens.
accesslog = "-"
logger_class = "bot.web.accesslog.RouteLogger"
