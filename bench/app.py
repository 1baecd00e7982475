"""The app as the benchmark serves it (`bench.app:app`): the production app, plus the empty
route and the SQL trace of bench/sql_trace.py."""

from app.main import app
from app.web.serving import freeze_startup
from bench import sql_trace

sql_trace.install(app)
freeze_startup()  # as app/main.py does, now that the hooks are in
