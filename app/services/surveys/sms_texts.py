"""The survey SMS (invitation and its one reminder), written by the worker when it sends
them: the answer link as a short link expiring with the survey's own link."""

from sqlmodel import Session

from app.models.operators import Operator
from app.models.outbox import OutboxMessage
from app.models.surveys import SurveyInvitation, SurveyStatus
from app.services.messaging.mail import DeliveryError
from app.services.messaging.short_links import shorten
from app.services.messaging.sms_text import fit_sms
from app.services.surveys.links import answer_link, link_expires_at

INVITATION = "survey_invitation"
REMINDER = "survey_reminder"
SUBJECTS = {
    INVITATION: "SMS : enquête de satisfaction",
    REMINDER: "SMS : rappel de l'enquête de satisfaction",
}


def write_survey_sms(*, session: Session, message: OutboxMessage) -> str:
    invitation = session.get(SurveyInvitation, (message.payload or {}).get("invitation_id"))
    if invitation is None or invitation.status != SurveyStatus.SENT:
        raise DeliveryError("Enquête annulée entre-temps : SMS sans objet.", permanent=True)
    if invitation.answered_at is not None:
        raise DeliveryError("Enquête déjà répondue : SMS sans objet.", permanent=True)
    link = shorten(
        session=session,
        link=answer_link(invitation),
        expires_at=link_expires_at(invitation),
        operator_id=invitation.operator_id,
    )
    operator = session.get(Operator, invitation.operator_id)
    lead = "Rappel, votre avis" if message.template == REMINDER else "Votre avis"
    return fit_sms(
        "",
        operator.name,
        f" : {lead} sur notre accompagnement (2 min, lien personnel) : {link} "
        "STOP pour ne plus recevoir de SMS",
    )
