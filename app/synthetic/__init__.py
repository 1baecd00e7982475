"""Synthetic data at national scale for load tests and benchmarks (`filrouge generate`).

    FILROUGE_DATABASE_URL=postgresql://…/filrouge_gen filrouge generate            # national
    FILROUGE_DATABASE_URL=sqlite:///var/bench.db filrouge generate --scale 0.06    # one operator

The database must be new (the command runs the migrations itself and refuses a database that
already has operators). Every generated staff account shares SYNTHETIC_PASSWORD; e-mails are
`conseiller.0001@ara.synthetique.example`, `responsable.0001@…`, `admin.0001@…` per operator
and `observateur.0001@…`, `controleur.0001@national.synthetique.example` (`.example` is
reserved: nothing can be delivered). Issued deliverables point at one real PDF per kind,
rendered by the app once and shared as a placeholder (its true SHA-256 and size), not at a PDF of their own content.
"""

from app.synthetic.generate import Report, generate
from app.synthetic.setup import SYNTHETIC_PASSWORD

__all__ = ["SYNTHETIC_PASSWORD", "Report", "generate"]
