"""Property-based fuzzing of the JSON API (schemathesis): whatever arrives, never a 500.

Each operation of the OpenAPI schema is one test; its examples run against the in-process app,
inside that test's rolled-back transaction, authenticated as a counsellor whose operator has
a person, a case with an episode and an interaction, and a pending triage request. Every
generated case is sent as generated, then again with its path ids pointing at those rows, so
that the garbage also reaches the services and the database, not only the 404 branch.
FILROUGE_FUZZ_EXAMPLES=300 digs deeper (about two minutes) than the default 25.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.main import create_app
from app.models.nomenclatures import Channel, InteractionChannel, RequestMotive
from app.models.triage import TriageCreate
from app.security import create_api_token
from app.services.triage import create_request
from tests.factories import (
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_site,
    make_staff,
)

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@pytest.fixture
def counsellor_with_data(session):
    """A counsellor of ARA and one row of each kind; BRE has rows too, to be kept out."""
    operator = make_operator(session)
    make_site(session, operator)
    counsellor = make_staff(session, operator)
    make_staff(session, operator)  # a colleague to hand cases over to
    other = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    make_case(session, other)
    beneficiary = make_beneficiary(session, counsellor, phone="06 12 34 56 78")
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case)
    make_interaction(
        session, counsellor, case, channel=InteractionChannel.VIDEO, episode_id=episode.id
    )
    request = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=beneficiary.id, channel=Channel.WEB, motive=RequestMotive.VAE
        ),
    )
    real_ids = {
        "beneficiary_id": beneficiary.id,
        "case_id": case.id,
        "episode_id": episode.id,
        "request_id": request.id,
    }
    return counsellor, real_ids


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FILROUGE_FUZZ_EXAMPLES", "25")),
    deadline=None,
    # The DB fixture is function-scoped on purpose (one rolled-back transaction per operation);
    # requests are slowish.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)
def test_api_never_answers_a_server_error(case, app, counsellor_with_data):
    counsellor, real_ids = counsellor_with_data
    headers = {"Authorization": f"Bearer {create_api_token(counsellor.id)}"}
    case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])
    if case.path_parameters:
        case.path_parameters = {
            name: real_ids.get(name, value) for name, value in case.path_parameters.items()
        }
        case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])
