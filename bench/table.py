"""The README's table from a result file: `python -m bench.table bench/results/NAME.json`."""

import json
import sys


def _number(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def markdown(report: dict) -> str:
    lines = [
        "| operation | p50 | p95 | floor_sql | floor_empty | met | notes |",
        "|---|---:|---:|---:|---:|:-:|---|",
    ]
    for op in report["operations"]:
        # Throughput and proof pack notes carry figures; the others only count statements.
        note = op.get("note") or ""
        note = note if "/s" in note or op.get("p50_ms") is None else ""
        cells = [op["operation"], *(_number(op.get(key)) for key in ("p50_ms", "p95_ms"))]
        cells += [_number(op.get("floor_sql_ms")), _number(op.get("floor_empty_ms"))]
        cells += ["yes" if op.get("met") else "no", note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(markdown(json.load(open(path, encoding="utf-8"))))
