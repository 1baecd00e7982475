"""The shares and weights that shape the synthetic stories (aimed at the national figures of
plan.py), drawn with Pickers; the French texts come from the demo's content."""

from datetime import timedelta

from app.demo import content as demo
from app.synthetic.world import Picker

SECOND_CASE = 0.22  # people who come back for a second case, after the first is closed
PENDING_ONLY = 0.01  # recent requests still waiting at triage
REDIRECTED = 0.07  # requests redirected to another network (a case closed at once)
TRIAGED = 0.9  # cases that started with a triage request (UO0)
LEVEL_1 = 0.97  # cases with an N1 interview
LEVEL_2 = 0.3  # N1 cases going on to N2.1
LEVEL_2_2 = 0.6  # N2.1 cases going on to N2.2
DROP_OUT = 0.1  # cases that stop after the first interview
BY_APPOINTMENT = 0.47  # interviews held on a booked appointment
NO_SHOW = 0.08
CANCELLED = 0.1
EXCUSED = 0.02
PROOF_RATE = 0.53  # ended units whose deliverables were issued
ACKNOWLEDGED = 0.75
REFERRED = 0.17  # cases with an N1 interview referred to a partner
CLOSES = 0.92  # cases closed some weeks after their last activity
SURVEY_CONSENT = 0.85  # people who agree to be asked for their opinion
PHONE_ONLY = 0.03  # people who give a phone and no e-mail (no SMS: « non contactable »)
SURVEY_OPT_OUT = 0.015  # people asked who follow the opt-out link of their first survey
SURVEY_PARTIAL = 0.03  # invitations left with answers saved but never submitted

SEX = Picker({"F": 60, "M": 38, "NR": 2})
RQTH = Picker({"non": 88, "oui": 5, "nr": 7})
STATUS = Picker({k.value: w for k, w in demo.STATUS_WEIGHTS.items()})
PCS = Picker({k.value: w for k, w in demo.PCS_WEIGHTS.items()})
NAF = Picker({k.value: w for k, w in demo.NAF_WEIGHTS.items()})
SIZE = Picker({k.value: w for k, w in demo.SIZE_WEIGHTS.items()})
DIPLOMA = Picker({k.value: w for k, w in demo.DIPLOMA_WEIGHTS.items()})
PROFILE = {k.value: {f: getattr(v, "value", v) for f, v in p.items()} for k, p in demo.STATUS_PROFILE.items()}  # fmt: skip
CHANNEL = Picker({k.value: w for k, w in demo.CHANNEL_WEIGHTS.items()})
MOTIVE = Picker({k.value: w for k, w in demo.MOTIVE_WEIGHTS.items()})
REQUESTS = {k.value: v for k, v in demo.REQUEST_TEXTS.items()}
CLOSE = Picker({k.value: w for k, w in demo.CLOSE_WEIGHTS.items()})
CLOSE_NOTES = {k.value: v for k, v in demo.CLOSE_NOTES.items()}
SHAPES = {
    kind: (minutes, Picker({c.value: w for c, w in channels.items()}))
    for kind, (minutes, channels) in demo.INTERACTION_SHAPES.items()
}
REDIRECTED_TO = [  # (situation, redirection)
    ("demandeur_emploi", "france_travail"), ("demandeur_emploi", "france_travail"),
    ("jeune_neet", "mission_locale"), ("agent_public", "employeur_public"),
    ("rqth_principal", "cap_emploi"), ("cadre", "apec"),
]  # fmt: skip
REDIRECT_REASONS = {k.value: v for k, v in demo.REDIRECT_REASONS.items()}
HORS = ("hors téléphone", "hors téléphone", "hors courriel")
MODE = {"sur_site": "on_site", "visio": "video", "telephone": "phone"}
CHANNEL_LABEL = {"sur_site": "sur site", "visio": "visioconférence", "telephone": "téléphone",
                  "email": "courriel"}  # fmt: skip
PLAN = [
    {"description": "Faire une immersion professionnelle de deux jours",
     "owner_label": "Bénéficiaire", "due_on": None, "status_label": "Fait"},
    {"description": "Constituer le dossier de financement", "owner_label": "Bénéficiaire",
     "due_on": None, "status_label": "En cours"},
    {"description": "Relire le dossier avant dépôt", "owner_label": "Conseiller·ère",
     "due_on": None, "status_label": "À faire"},
]  # fmt: skip
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
