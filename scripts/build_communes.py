"""Build app/data/communes.csv: each current commune's name, département and postcodes, so that
the national booking entry (/rendez-vous) can take a commune's name instead of a postcode.

Input from a package registry (nothing is fetched at run time): npm
`@etalab/decoupage-administratif` (MIT, © Etalab), data/communes.json.

    npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf etalab-*.tgz
    python scripts/build_communes.py package/data/communes.json app/data/communes.csv
"""

import csv
import json
import sys


def main(communes_path: str, out_path: str) -> None:
    communes = json.load(open(communes_path, encoding="utf-8"))
    rows = sorted(
        (commune["nom"], commune["departement"], " ".join(sorted(commune["codesPostaux"])))
        for commune in communes
        if commune.get("type") == "commune-actuelle" and commune.get("codesPostaux")
    )
    with open(out_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("name", "departement", "postcodes"))
        writer.writerows(rows)


if __name__ == "__main__":
    main(*sys.argv[1:3])
