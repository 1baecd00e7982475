"""The real app on the generated data: log in, open a case, run a report, write after it."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.core.db import get_session, unit_of_work
from app.models.cases import Case, InteractionCreate
from app.models.staff import StaffUser
from app.services.cases.interactions import record_interaction
from app.services.reports.activity import activity_report, default_period
from app.synthetic import SYNTHETIC_PASSWORD


def _client(generated) -> TestClient:
    from app.main import create_app

    application = create_app()

    def generated_session():
        yield from unit_of_work(generated.engine)

    application.dependency_overrides[get_session] = generated_session
    return TestClient(application)


def _login(client: TestClient, email: str):
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"email": email, "password": SYNTHETIC_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )


def test_a_generated_counsellor_logs_in_and_opens_one_of_their_cases(generated):
    email = generated.report.logins[0].email
    with Session(generated.engine) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        case = session.exec(
            select(Case).where(Case.referent_id == counsellor.id).order_by(Case.id.desc())
        ).first()
    client = _client(generated)
    assert _login(client, email).status_code == 303
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert case.reference in page.text


def test_the_activity_report_runs_on_generated_data(generated):
    manager_email = generated.report.logins[1].email
    with Session(generated.engine) as session:
        manager = session.exec(select(StaffUser).where(StaffUser.email == manager_email)).one()
        start, end = default_period(session=session, actor=manager)
        report = activity_report(
            session=session, actor=manager, start=start - timedelta(days=700), end=end
        )
    assert report.sections


def test_the_app_inserts_after_the_generated_ids(generated):
    email = generated.report.logins[0].email
    with Session(generated.engine) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        case = session.exec(
            select(Case).where(Case.referent_id == counsellor.id, Case.status == "open")
        ).first()
        interaction = record_interaction(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=InteractionCreate(
                occurred_at=datetime.now(UTC) - timedelta(hours=1),
                duration_minutes=20,
                channel="telephone",
                summary="Appel de suivi.",
            ),
        )
        new_id = interaction.id
        session.rollback()
    assert new_id > generated.report.counts["interactions"]
