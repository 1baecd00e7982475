"""`make bench`, first step: the dataset. A database without operators (or without tables)
gets `filrouge generate --scale S`; one already generated is used as it is, so that a second
run times the app, not the loading."""

import argparse
import os
import subprocess
import sys
import time

from sqlalchemy import inspect, text

from app.core.db import build_engine


def has_data(database_url: str) -> bool:
    engine = build_engine(database_url)
    try:
        if not inspect(engine).has_table("operators"):
            return False
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT count(*) FROM operators")).scalar())
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=0.06)
    args = parser.parse_args()
    if has_data(args.database_url):
        print(f"Dataset already there: {args.database_url}")
        return
    started = time.monotonic()
    command = [sys.executable, "-m", "app.cli", "generate", "--scale", str(args.scale)]
    env = os.environ | {"FILROUGE_DATABASE_URL": args.database_url}
    subprocess.run(command, env=env, check=True)
    print(f"Generated at scale {args.scale} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
