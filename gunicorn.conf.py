"""gunicorn settings of the production web server (read from the working directory; flags on the
command line win). The number of worker processes comes from WEB_CONCURRENCY.

``gthread`` workers keep a client's connection open between requests (an Open311 integration or
a reverse proxy sends many), which ``sync`` workers close after every answer; two threads per
process let one request wait on the database while another runs (ADR 0022).
"""

import os

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
