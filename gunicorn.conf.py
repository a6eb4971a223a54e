"""gunicorn settings: threaded workers, because the portal mostly waits on the gateway."""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "8"))
# A gateway call has a 10 s budget; leave room for a slow page of several calls.
timeout = int(os.environ.get("PORTAL_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Only the proxy in front may set X-Forwarded-*: set PORTAL_PROXY_COUNT=1 behind it as well.
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The access log line never includes the query string's secrets: the portal puts none there.
# Invitation links are secrets in the path: RedactingLogger writes them as "[redacted]".
logger_class = "app.access_log.RedactingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
