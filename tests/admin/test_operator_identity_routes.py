"""« Nom et logo »: the operator's administrator uploads the logo its public pages show beside
its name (PNG or JPEG by content, re-encoded without metadata within 600 × 200), or removes it;
the public pages name the operator, not the application."""

import io

import pytest
import weasyprint  # noqa: F401 — as in the app: it lets Pillow load cut-off images
from PIL import Image, PngImagePlugin

from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.services.admin.operator_identity import remove_logo, set_logo
from tests.factories import anonymous_csrf, log_in, make_staff, read


def png(width=1200, height=800, *, text: str = "") -> bytes:
    image = Image.new("RGBA", (width, height), (200, 30, 60, 255))
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Author", text)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (300, 100), (10, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = "Photographe secret"  # Artist
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    return out.getvalue()


@pytest.fixture
def admin_csrf(client, session, ara, storage_dir):
    return log_in(client, session, make_staff(session, ara, Role.OPERATOR_ADMIN))


def upload(client, csrf, content: bytes, filename="logo.png", content_type="image/png"):
    return client.post(
        "/admin/identite/logo",
        data={"csrf_token": csrf},
        files={"logo": (filename, content, content_type)},
        follow_redirects=False,
    )


def served(client) -> Image.Image:
    response = client.get("/logos/ARA")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_an_uploaded_png_is_bounded_stripped_and_served_at_the_operators_address(
    client, admin_csrf
):
    answer = upload(client, admin_csrf, png(text="Mme Secret, GPS 45.76 4.84"))
    assert answer.status_code == 303
    logo = served(client)
    assert logo.format == "PNG" and logo.width <= 600 and logo.height <= 200
    assert logo.size == (300, 200)  # the proportions are kept
    assert "Author" not in logo.info and b"Secret" not in client.get("/logos/ARA").content


def test_a_jpeg_is_accepted_and_loses_its_exif(client, admin_csrf):
    assert upload(client, admin_csrf, jpeg_with_exif(), "logo.jpg", "image/jpeg").status_code == 303
    logo = served(client)
    assert logo.format == "PNG" and not logo.getexif()
    assert b"Photographe" not in client.get("/logos/ARA").content


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (gif(), "logo.gif"),
        (b"%PDF-1.4 not an image", "logo.png"),
        (png()[:200], "logo.png"),
        (jpeg_with_exif()[:-300], "logo.jpg"),
    ],
)
def test_anything_but_a_whole_png_or_jpeg_is_refused_whatever_its_name(
    client, session, ara, admin_csrf, content, filename
):
    answer = upload(client, admin_csrf, content, filename)
    assert answer.status_code == 422 and "PNG ou JPEG" in read(answer)
    session.refresh(ara)
    assert ara.logo_key is None and client.get("/logos/ARA").status_code == 404


def test_an_image_over_the_size_limit_is_refused(client, admin_csrf):
    noise = Image.effect_noise((1800, 1800), 100).convert("RGB")
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert len(out.getvalue()) > 2 * 1024 * 1024
    answer = upload(client, admin_csrf, out.getvalue())
    assert answer.status_code == 422 and "2 Mo" in read(answer)


def test_the_logo_is_cached_by_its_version_and_a_new_one_changes_the_address(
    client, session, ara, admin_csrf
):
    upload(client, admin_csrf, png())
    first = client.get("/logos/ARA")
    assert (
        "max-age" in first.headers["cache-control"] and "public" in first.headers["cache-control"]
    )
    again = client.get("/logos/ARA", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    page = client.get("/admin/identite").text
    upload(client, admin_csrf, png(900, 300))
    assert client.get("/admin/identite").text != page  # the address carries the new version
    assert client.get("/logos/ARA").headers["etag"] != first.headers["etag"]


def test_the_booking_pages_show_the_operators_name_logo_and_title(client, session, ara, admin_csrf):
    upload(client, admin_csrf, png())
    client.cookies.clear()
    page = client.get("/rendez-vous?operateur=ARA").text
    assert '<img class="brand-logo" src="/logos/ARA?v=' in page
    assert 'alt="Auvergne-Rhône-Alpes"' in page
    assert "<title>Prendre rendez-vous · Auvergne-Rhône-Alpes</title>" in page
    assert "Fil rouge" not in page


def test_removing_the_logo_leaves_the_name_alone(client, session, ara, admin_csrf, storage_dir):
    upload(client, admin_csrf, png())
    session.refresh(ara)
    key = ara.logo_key
    answer = client.post(
        "/admin/identite/logo/retirer", data={"csrf_token": admin_csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    session.refresh(ara)
    assert ara.logo_key is None and not (storage_dir / key[:2] / key).exists()
    assert client.get("/logos/ARA").status_code == 404
    client.cookies.clear()
    page = client.get("/rendez-vous?operateur=ARA").text
    assert '<p class="site-brand public-brand">Auvergne-Rhône-Alpes</p>' in page
    assert "brand-logo" not in page


def test_only_the_operators_administrator_changes_its_logo(client, session, ara, storage_dir):
    for role in (Role.COUNSELLOR, Role.MANAGER):
        csrf = log_in(client, session, make_staff(session, ara, role))
        assert client.get("/admin/identite").status_code == 403
        assert upload(client, csrf, png()).status_code == 403
        assert (
            client.post("/admin/identite/logo/retirer", data={"csrf_token": csrf}).status_code
            == 403
        )
    assert session.get(Operator, ara.id).logo_key is None


def test_an_operator_without_a_logo_or_unknown_has_none(client, ara):
    assert client.get("/logos/ARA").status_code == 404
    assert client.get("/logos/ZZZ").status_code == 404


# ---- public pages name the operator ------------------------------------------------------------


def test_the_privacy_notice_names_the_operator_and_the_national_entry_stays_neutral(client, ara):
    notice = client.get("/mentions-information/ARA").text
    assert '<p class="site-brand public-brand">Auvergne-Rhône-Alpes</p>' in notice
    assert "· Auvergne-Rhône-Alpes</title>" in notice
    entry = client.get("/rendez-vous").text
    assert "Conseil en évolution professionnelle</p>" in entry and "Fil rouge" not in entry


def test_staff_keep_the_applications_header_on_a_public_page(client, session, ara):
    log_in(client, session, make_staff(session, ara, Role.COUNSELLOR))
    page = client.get("/rendez-vous?operateur=ARA").text
    assert '<a class="site-brand" href="/">Fil rouge</a>' in page


def test_the_operator_page_after_the_national_entry_carries_the_operators_name(client, ara):
    token = anonymous_csrf(client, "/rendez-vous")
    data = {"csrf_token": token, "situation": "actif_prive", "recherche": "69003"}
    page = client.post("/rendez-vous/trouver", data=data).text
    assert '<p class="site-brand public-brand">Auvergne-Rhône-Alpes</p>' in page


def test_the_earlier_logo_is_deleted_when_the_change_commits_and_kept_when_it_rolls_back(
    session, ara, storage
):
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    first = set_logo(session=session, actor=admin, raw=png()).logo_key
    session.commit()

    set_logo(session=session, actor=admin, raw=png(900, 300))
    session.rollback()
    assert session.get(Operator, ara.id).logo_key == first
    assert storage.read(first)

    second = set_logo(session=session, actor=admin, raw=png(900, 300)).logo_key
    assert storage.read(first)  # the page may still show it until the change is committed
    session.commit()
    with pytest.raises(FileNotFoundError):
        storage.read(first)
    remove_logo(session=session, actor=admin)
    session.commit()
    with pytest.raises(FileNotFoundError):
        storage.read(second)
