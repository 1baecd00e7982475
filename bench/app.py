"""The app as the benchmark serves it (`bench.app:app`): the production app, plus the empty
route and the SQL trace of bench/sql_trace.py."""

import gc

from app.main import app
from bench import sql_trace

sql_trace.install(app)
# As app/main.py does once the app is built: what start-up made is left out of the garbage
# collector's full passes.
gc.collect()
gc.freeze()
