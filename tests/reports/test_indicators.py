"""France compétences' indicators, checked exactly on a small known population of one operator
over 2025: three requests redirected at triage, twelve people entering level 1 at known dates
(four reaching level 2 within twelve months, one after thirteen), people served without
entering, postcodes near and far from the operator's places, a cancelled unit that counts
nowhere. Every expected figure below is worked out by hand from the story told in `story`."""

from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.models.beneficiaries import Beneficiary
from app.models.cases import (
    Case,
    CaseOpen,
    Episode,
    EpisodeEnd,
    EpisodeStart,
    Interaction,
    InteractionCreate,
)
from app.models.nomenclatures import (
    CepSituation,
    Channel,
    InteractionChannel,
    Redirection,
    RequestMotive,
    Role,
)
from app.models.operators import Permanence
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect
from app.services.cases.episodes import end_episode, start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import open_case
from app.services.cases.triage import create_request, open_case_from_request, redirect_request
from app.services.reports import indicators
from app.services.reports.activity import activity_report
from app.services.reports.scope import ReportScope
from tests.factories import (
    bearer,
    make_beneficiary,
    make_operator,
    make_site,
    make_staff,
    report_rows,
    unit_id,
)

# The clock at 2 December 2026 (tests/conftest.py): every moment of the story is past.
pytestmark = pytest.mark.usefixtures("clock")

PARIS = ZoneInfo("Europe/Paris")
START, END = date(2025, 1, 1), date(2025, 12, 31)

PHONE = InteractionChannel.PHONE
ON_SITE = InteractionChannel.ON_SITE
VIDEO = InteractionChannel.VIDEO


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Paris (the operator's time zone)."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


class Story:
    """Writes one operator's rows through the services, as its counsellor."""

    def __init__(self, session, counsellor):
        self.session = session
        self.counsellor = counsellor

    def person(self, postcode: str | None, born: int | None = None) -> Beneficiary:
        return make_beneficiary(self.session, self.counsellor, postcode=postcode, birth_year=born)

    def case(self, person, opened_at, channel=Channel.PHONE, motive=RequestMotive.HEALTH) -> Case:
        data = CaseOpen(beneficiary_id=person.id, channel=channel, motive=motive)
        return open_case(
            session=self.session, actor=self.counsellor, data=data, opened_at=opened_at
        )

    def unit(self, case, code: str, started_at) -> Episode:
        data = EpisodeStart(unit_id=unit_id(self.session, code), started_at=started_at)
        episode, _ = start_episode(
            session=self.session, actor=self.counsellor, case_id=case.id, data=data
        )
        return episode

    def seen(self, case, when, channel=PHONE, episode=None) -> Interaction:
        data = InteractionCreate(
            occurred_at=when,
            duration_minutes=45,
            channel=channel,
            episode_id=episode.id if episode else None,
        )
        return record_interaction(
            session=self.session, actor=self.counsellor, case_id=case.id, data=data
        )

    def entrant(self, person, opened_at, started_at, channel, motive, interview=None):
        """A case opened directly whose UO1 starts at `started_at`, with its first interview
        (when, channel) within the UO1; returns (case, UO1 episode)."""
        case = self.case(person, opened_at, channel, motive)
        uo1 = self.unit(case, "UO1", started_at)
        if interview:
            self.seen(case, interview[0], interview[1], uo1)
        return case, uo1

    def request(self, person, received_at, channel, motive, situation=CepSituation.PRIVATE_WORKER):
        data = TriageCreate(
            beneficiary_id=person.id,
            channel=channel,
            motive=motive,
            cep_situation=situation,
            received_at=received_at,
        )
        return create_request(session=self.session, actor=self.counsellor, data=data)

    def redirected(self, person, received_at, channel, redirection: Redirection) -> None:
        request = self.request(person, received_at, channel, RequestMotive.MOBILITY)
        redirect_request(
            session=self.session,
            actor=self.counsellor,
            request_id=request.id,
            data=TriageRedirect(redirection=redirection),
        )

    def triaged(self, person, received_at, channel, motive) -> Case:
        request = self.request(person, received_at, channel, motive)
        return open_case_from_request(
            session=self.session,
            actor=self.counsellor,
            request_id=request.id,
            data=TriageOpenCase(referent_id=self.counsellor.id),
        )

    def cancel(self, episode) -> None:
        """Cancelled after the fact (the service only allows it within a few days of now)."""
        episode.cancelled_at = episode.started_at
        episode.cancelled_by_id = self.counsellor.id
        self.session.add(episode)
        self.session.flush()

    def end(self, episode, ended_at) -> None:
        end_episode(
            session=self.session,
            actor=self.counsellor,
            episode_id=episode.id,
            data=EpisodeEnd(ended_at=ended_at),
        )


def places(session, operator) -> None:
    """Open in 2025: a site in Lyon (69001) and a permanence in Grenoble (38000). Not open in
    2025: a site in Marseille closed in 2024 and a permanence there that ended in 2024."""
    lyon = make_site(session, operator, name="Lyon Presqu'île", postcode="69001", city="Lyon")
    marseille = make_site(
        session,
        operator,
        name="Marseille Joliette",
        postcode="13001",
        city="Marseille",
        active=False,
        closed_at=datetime(2024, 6, 30, 12, tzinfo=UTC),
    )
    for site, postcode, city, ends_on in (
        (lyon, "38000", "Grenoble", None),
        (marseille, "13001", "Marseille", date(2024, 12, 31)),
    ):
        session.add(
            Permanence(
                operator_id=operator.id,
                site_id=site.id,
                venue="Médiathèque",
                postcode=postcode,
                city=city,
                weekdays="2",
                start_time=time(9),
                end_time=time(12),
                starts_on=date(2024, 1, 1),
                ends_on=ends_on,
            )
        )
    session.flush()


def story(session, operator, counsellor) -> None:
    """ARA's 2025 (and what comes just before and after it)."""
    s = Story(session, counsellor)
    places(session, operator)

    # Three requests redirected at triage (a UO0 episode each, on a case closed at once), and
    # one still waiting: none of them is an entry or a person served.
    s.redirected(s.person("69003"), at(2025, 3, 10), Channel.WALK_IN, Redirection.FRANCE_TRAVAIL)
    s.redirected(s.person("69003"), at(2025, 3, 20), Channel.PHONE, Redirection.FRANCE_TRAVAIL)
    s.redirected(s.person("69003"), at(2025, 8, 5), Channel.EMAIL, Redirection.APEC)
    s.request(s.person("69003"), at(2025, 11, 10), Channel.PHONE, RequestMotive.MOBILITY)

    # E1, from triage (received 6 January): UO1 on 10 January, seen that day and again on the
    # 20th on site; UO2.1 on 10 March (59 days on), first session by video.
    e1 = s.triaged(s.person("69003", 2000), at(2025, 1, 6), Channel.PHONE, RequestMotive.RETRAIN)
    uo1 = s.unit(e1, "UO1", at(2025, 1, 10))
    s.seen(e1, at(2025, 1, 10), ON_SITE, uo1)
    s.seen(e1, at(2025, 1, 20), ON_SITE, uo1)
    s.seen(e1, at(2025, 3, 10), VIDEO, s.unit(e1, "UO2.1", at(2025, 3, 10)))

    # E2, from triage by the web (3 February): seen in UO1 on 17 February (14 days);
    # UO2.1 on 1 December (287 days on), on site.
    e2 = s.triaged(
        s.person("69100", 1999), at(2025, 2, 3), Channel.WEB, RequestMotive.SKILLS_REVIEW
    )
    s.seen(e2, at(2025, 2, 17), PHONE, s.unit(e2, "UO1", at(2025, 2, 17)))
    s.seen(e2, at(2025, 12, 1), ON_SITE, s.unit(e2, "UO2.1", at(2025, 12, 1)))

    # E3, at the desk, lives in Marseille: 2 days; UO1 ended 30 May; UO2.1 on 2 June.
    e3, uo1 = s.entrant(
        s.person("13001", 1990),
        at(2025, 3, 3),
        at(2025, 3, 5),
        Channel.WALK_IN,
        RequestMotive.RETRAIN,
        (at(2025, 3, 5), ON_SITE),
    )
    s.end(uo1, at(2025, 5, 30))
    s.seen(e3, at(2025, 6, 2), ON_SITE, s.unit(e3, "UO2.1", at(2025, 6, 2)))

    # E4: 7 days; UO2.1 exactly 365 days after its UO1, in 2026 (still within 12 months).
    e4, _ = s.entrant(
        s.person("69003", 1989),
        at(2025, 4, 1),
        at(2025, 4, 8),
        Channel.PHONE,
        RequestMotive.VAE,
        (at(2025, 4, 8), PHONE),
    )
    s.seen(e4, at(2026, 4, 8), PHONE, s.unit(e4, "UO2.1", at(2026, 4, 8)))

    # E5, in Marseille: UO1 on 14 January, first seen by video on 24 February (42 days from
    # the first contact); a UO2.1 started in June by mistake and cancelled; the real one 13
    # months later, on 20 February 2026.
    e5, _ = s.entrant(
        s.person("13001", 1980),
        at(2025, 1, 13),
        at(2025, 1, 14),
        Channel.PHONE,
        RequestMotive.RETRAIN,
        (at(2025, 2, 24), VIDEO),
    )
    s.cancel(s.unit(e5, "UO2.1", at(2025, 6, 2)))
    s.seen(e5, at(2026, 2, 20), PHONE, s.unit(e5, "UO2.1", at(2026, 2, 20)))

    # E6, whose postcode has no known position: 1 day.
    s.entrant(
        s.person("69999", 1979),
        at(2025, 5, 5),
        at(2025, 5, 6),
        Channel.EMAIL,
        RequestMotive.TRAINING,
        (at(2025, 5, 6), PHONE),
    )
    # E7: exactly 10 days.
    s.entrant(
        s.person("69100", 1970),
        at(2025, 6, 6),
        at(2025, 6, 16),
        Channel.PHONE,
        RequestMotive.SKILLS_REVIEW,
        (at(2025, 6, 16), PHONE),
    )
    # E8, in Grenoble, near the permanence: 2 days.
    s.entrant(
        s.person("38000", 1969),
        at(2025, 7, 1),
        at(2025, 7, 3),
        Channel.WALK_IN,
        RequestMotive.RETRAIN,
        (at(2025, 7, 3), PHONE),
    )
    # E9: enters level 1 on 2 September but is only ever seen hors UO: an entry with no
    # interview, and no person served.
    e9, _ = s.entrant(
        s.person("69003", 1985),
        at(2025, 9, 1),
        at(2025, 9, 2),
        Channel.WEB,
        RequestMotive.TAKE_STOCK,
    )
    s.seen(e9, at(2025, 9, 15), PHONE)
    # E10: 14 days; born year unknown.
    s.entrant(
        s.person("69003"),
        at(2025, 10, 6),
        at(2025, 10, 20),
        Channel.PHONE,
        RequestMotive.RETRAIN,
        (at(2025, 10, 20), PHONE),
    )
    # E11, in Marseille: enters at 23:30 on 31 December (Paris), 2 days 13.5 hours on.
    s.entrant(
        s.person("13001", 1985),
        at(2025, 12, 29),
        at(2025, 12, 31, 23, 30),
        Channel.PARTNER,
        RequestMotive.BUSINESS,
        (at(2025, 12, 31, 23, 30), PHONE),
    )
    # E12: case opened in December 2024, enters at 00:30 on 1 January (Paris; still 2024 in
    # UTC), 11 days 14.5 hours on.
    s.entrant(
        s.person("69100", 1995),
        at(2024, 12, 20),
        at(2025, 1, 1, 0, 30),
        Channel.PHONE,
        RequestMotive.SKILLS_REVIEW,
        (at(2025, 1, 1, 0, 30), PHONE),
    )

    # Served in 2025 without entering then. S1 entered in 2024 and is seen in 2025 only within
    # the UO2.1 started in 2024 (ended 3 March 2025); S2 entered in 2024, followed up in UO1.
    s1, uo1 = s.entrant(
        s.person("69003", 1960), at(2024, 9, 30), at(2024, 10, 1), Channel.PHONE,
        RequestMotive.HEALTH, (at(2024, 10, 1), PHONE),
    )  # fmt: skip
    s.end(uo1, at(2024, 10, 28))
    uo2 = s.unit(s1, "UO2.1", at(2024, 11, 4))
    s.seen(s1, at(2024, 11, 4), PHONE, uo2)
    s.seen(s1, at(2025, 2, 10), PHONE, uo2)
    s.end(uo2, at(2025, 3, 3))
    s2, uo1 = s.entrant(
        s.person("13001", 2003), at(2024, 11, 18), at(2024, 11, 18), Channel.PHONE,
        RequestMotive.HEALTH, (at(2024, 11, 18), PHONE),
    )  # fmt: skip
    s.seen(s2, at(2025, 1, 27), PHONE, uo1)

    # Counted nowhere in 2025: C1's only unit was cancelled; X1 enters at 00:30 on 1 January
    # 2026 (Paris; still 2025 in UTC).
    c1 = s.case(s.person("69003", 1975), at(2025, 5, 12))
    s.cancel(s.unit(c1, "UO1", at(2025, 5, 12)))
    s.entrant(
        s.person("69003", 1975), at(2025, 12, 15), at(2026, 1, 1, 0, 30), Channel.PHONE,
        RequestMotive.HEALTH, (at(2026, 1, 1, 0, 30), PHONE),
    )  # fmt: skip


def other_operator(session) -> None:
    """BRE, with a site in Marseille and one entry in 2025: none of it is ARA's."""
    operator = make_operator(session, "BRE", "Bretagne")
    make_site(session, operator, postcode="13001", city="Marseille")
    s = Story(session, make_staff(session, operator))
    case, uo1 = s.entrant(
        s.person("13001", 1990), at(2025, 5, 5), at(2025, 5, 5), Channel.PHONE,
        RequestMotive.RETRAIN, (at(2025, 5, 5), PHONE),
    )  # fmt: skip
    s.unit(case, "UO2.1", at(2025, 6, 1))


@pytest.fixture
def manager(session):
    operator = make_operator(session)
    story(session, operator, make_staff(session, operator))
    other_operator(session)
    return make_staff(session, operator, Role.MANAGER)


@pytest.fixture
def report(session, manager):
    return activity_report(session=session, actor=manager, start=START, end=END)


def summary(report) -> dict:
    return {label: value for label, (value,) in report_rows(report, "synthese").items()}


# ---- entries and redirections -----------------------------------------------------------------


def test_entries_are_the_cases_whose_first_level_1_unit_started_in_the_period(report):
    # E1 to E12: not the redirected requests, not C1 (cancelled), not X1 (2026), not S1 or S2.
    assert summary(report)["Entrées"] == 12


def test_entries_and_redirections_per_local_month(report):
    assert report_rows(report, "entrees") == {
        "janvier 2025": (3, 0),  # E12 at 00:30 on the 1st, E1, E5
        "février 2025": (1, 0),
        "mars 2025": (1, 2),
        "avril 2025": (1, 0),
        "mai 2025": (1, 0),
        "juin 2025": (1, 0),
        "juillet 2025": (1, 0),
        "août 2025": (0, 1),
        "septembre 2025": (1, 0),
        "octobre 2025": (1, 0),
        "novembre 2025": (0, 0),
        "décembre 2025": (1, 0),  # E11 at 23:30 on the 31st
    }


def test_redirections_are_counted_with_their_target(report):
    assert summary(report)["Réorientations à l'accueil"] == 3
    assert report_rows(report, "accueil") == {
        "En attente": (1,),
        "Dossier ouvert": (2,),
        "Réorientée — France Travail": (2,),
        "Réorientée — APEC": (1,),
        "Réorientée — Cap emploi": (0,),
        "Réorientée — Mission locale": (0,),
        "Réorientée — CEP de son employeur public": (0,),
        "Réorientée — Autre": (0,),
    }


# ---- people served ----------------------------------------------------------------------------


def test_people_served_had_a_level_1_or_level_2_interaction_in_the_period(report):
    # E1–E8, E10–E12, S1 (level 2 only) and S2: not E9 (hors UO only), not the redirected.
    assert summary(report)["Personnes accompagnées"] == 13


def test_the_people_served_are_counted_in_the_age_bands_of_the_nomenclature(report):
    assert report_rows(report, "profil-age") == {
        "Moins de 26 ans": (2,),  # E1 (25), S2
        "26 à 35 ans": (3,),  # E2 (26), E3 (35), E12
        "36 à 45 ans": (3,),  # E4 (36), E5 (45), E11
        "46 à 55 ans": (2,),  # E6 (46), E7 (55)
        "Plus de 55 ans": (2,),  # E8 (56), S1
        "Non renseigné": (1,),  # E10
    }


# ---- units and interactions -------------------------------------------------------------------


def test_units_started_and_ended_per_unit_with_their_on_site_share(report):
    assert report_rows(report, "unites") == {
        # Triage: the 3 redirected and E1, E2; ended when triaged, in 2026 (the clock's now).
        "UO0": ("Accueil, aiguillage, prise de rendez-vous", 5, 0, 5, 20.0),
        # E1–E12; E3's ended; 13 interactions (E1 twice, S2's follow-up), 3 on site.
        "UO1": ("Niveau 1 — Accueil individualisé", 12, 1, 13, 23.1),
        # E1, E2, E3 (not E5's cancelled one, not 2026's); S1's ended; 4 sessions, 2 on site.
        "UO2.1": ("Niveau 2 — Conseil personnalisé", 3, 1, 4, 50.0),
    }
    assert summary(report)["Unités d'œuvre commencées"] == 20
    assert summary(report)["Unités d'œuvre terminées"] == 2


def test_interactions_per_channel_and_the_hors_uo_share(report):
    assert report_rows(report, "actes") == {
        "Sur site": (6, 0, 0.0),
        "Téléphone": (13, 1, 7.7),
        "Visioconférence": (2, 0, 0.0),
        "Courriel": (2, 0, 0.0),
        "Total": (23, 1, 4.3),
    }
    assert summary(report)["Actes"] == 23
    assert summary(report)["Part des actes hors UO (%)"] == 4.3


# ---- reaching level 2 and the delay to level 1 ------------------------------------------------


def test_reaching_level_2_within_12_months_of_the_entry(report):
    # E1, E2, E3 and E4 (365 days exactly); not E5 (402 days, and its cancelled UO2.1).
    level_2 = report_rows(report, "niveau-2")
    assert level_2 == {
        "Entrées de la période (base)": (12,),
        "dont niveau 2 commencé dans les 12 mois": (4,),
        "Accès au niveau 2 (%)": (33.3,),
    }
    share = level_2["Accès au niveau 2 (%)"][0]
    assert (share.part, share.whole) == (4, 12)
    assert summary(report)["Accès au niveau 2 (%)"] == 33.3


def test_the_delay_to_the_first_level_1_interview(report):
    # Days from the first contact, over the 11 entries seen in UO1 (not E9): 1, 2, 2, 2.6, 4,
    # 7, 10, 11.6, 14, 42 and E2's 14; the median is E4's 7; 7 of them within 10 days.
    delay = report_rows(report, "delai-niveau-1")
    median, cases = delay["Délai médian (jours)"]
    within, whole = delay["Part en 10 jours au plus (%)"]
    assert (median.days, median.cases, cases) == (7.0, 11, 11)
    assert (within.part, within.whole, within, whole) == (7, 11, 63.6, 11)
    assert summary(report)["Délai médian d'accès au niveau 1 (jours)"] == median
    assert summary(report)["Part des entrées vues en 10 jours au plus (%)"] == 63.6


# ---- coverage ---------------------------------------------------------------------------------


def test_coverage_of_the_people_served_within_30_km_of_an_open_place(report):
    # 12 of the 13 located (not E6); near: 69003, 69100 (Lyon site), 38000 (Grenoble
    # permanence); far: Marseille, whose site and permanence were closed before 2025 and
    # where BRE's site is not ARA's.
    assert report_rows(report, "territoire") == {
        "13 — Bouches-du-Rhône": (4, 0, 0.0, 0),  # E3, E5, E11, S2
        "38 — Isère": (1, 1, 100.0, 1),  # E8
        "69 — Rhône": (7, 7, 100.0, 1),  # E1, E2, E4, E7, E10, E12, S1
        "Total": (12, 8, 66.7, 2),
    }
    assert summary(report)["Couverture à 30 km (%)"] == 66.7


def test_people_whose_postcode_has_no_position_are_left_out_of_the_coverage(session, manager):
    scope = ReportScope(manager.operator_id, "Europe/Paris", START, END)
    ara = manager.operator_id
    # The people served by postcode, as the report counts them; E6's 69999 has no position.
    served = Counter(
        {
            (ara, "69003"): 4,
            (ara, "69100"): 3,
            (ara, "13001"): 4,
            (ara, "38000"): 1,
            (ara, "69999"): 1,
        }
    )

    covered = indicators.coverage(session, scope, served)

    assert covered.unlocated == 1
    assert covered.share() == 66.7
    assert covered.departements == {"13": [0, 4], "38": [1, 1], "69": [7, 7]}


# ---- motives and channels ---------------------------------------------------------------------


def test_entries_by_motive(report):
    by_motive = {label: n for label, (n,) in report_rows(report, "motifs").items()}
    assert {label: n for label, n in by_motive.items() if n} == {
        RequestMotive.RETRAIN.label: 5,  # E1, E3, E5, E8, E10
        RequestMotive.SKILLS_REVIEW.label: 3,  # E2, E7, E12
        RequestMotive.VAE.label: 1,
        RequestMotive.TRAINING.label: 1,
        RequestMotive.TAKE_STOCK.label: 1,
        RequestMotive.BUSINESS.label: 1,
    }
    # The redirected requests' motive and the cases served without entering count nowhere.
    assert by_motive[RequestMotive.MOBILITY.label] == by_motive[RequestMotive.HEALTH.label] == 0


def test_entries_by_arrival_channel(report):
    assert report_rows(report, "canaux") == {
        "Téléphone": (6,),  # E1, E4, E5, E7, E10, E12
        "Courriel": (1,),  # E6
        "Accueil physique": (2,),  # E3, E8
        "Site internet": (2,),  # E2, E9
        "Partenaire": (1,),  # E11
    }


# ---- the same figures through the API ---------------------------------------------------------


def test_the_api_gives_the_same_figures_by_name(client, manager):
    response = client.get(
        f"/api/v1/reports/indicators?from={START}&to={END}", headers=bearer(manager)
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["entries"], body["people_served"]) == (12, 13)
    assert body["redirections"] == {
        "total": 3,
        "by_target": {
            "france_travail": 2,
            "apec": 1,
            "cap_emploi": 0,
            "mission_locale": 0,
            "employeur_public": 0,
            "autre": 0,
        },
    }
    assert body["units_started"] == {"UO0": 5, "UO1": 12, "UO2.1": 3}
    assert body["reaching_level_2"] == {"base": 12, "count": 4, "share": 33.3}
    assert body["delay_to_level_1_days"] == {
        "median": 7.0,
        "cases": 11,
        "share_within_10_days": 63.6,
    }
    assert body["coverage_30km"] == {
        "share": 66.7,
        "by_departement": [
            {"departement": "13", "people_served": 4, "within_30km": 0, "share": 0.0, "places": 0},
            {
                "departement": "38",
                "people_served": 1,
                "within_30km": 1,
                "share": 100.0,
                "places": 1,
            },
            {
                "departement": "69",
                "people_served": 7,
                "within_30km": 7,
                "share": 100.0,
                "places": 1,
            },
        ],
    }
    assert body["hors_uo_share"] == 4.3
    assert {code: n for code, n in body["by_motive"].items() if n} == {
        "reconversion": 5,
        "bilan": 3,
        "vae": 1,
        "formation": 1,
        "point_situation": 1,
        "creation_entreprise": 1,
    }
    assert body["by_channel"] == {
        "telephone": 6,
        "email": 1,
        "accueil": 2,
        "web": 2,
        "partenaire": 1,
    }
    months = {row["month"]: (row["entries"], row["redirections"]) for row in body["by_month"]}
    assert len(months) == 12
    assert months["2025-01"] == (3, 0)
    assert months["2025-03"] == (1, 2)
    assert months["2025-08"] == (0, 1)
    assert months["2025-12"] == (1, 0)
    assert sum(entries for entries, _ in months.values()) == 12


def test_the_territory_chart_draws_each_departements_coverage(report):
    bars = {bar.label: bar.value for bar in report.section("territoire").bars()}

    assert bars == {"13 — Bouches-du-Rhône": 0.0, "38 — Isère": 100.0, "69 — Rhône": 100.0}
