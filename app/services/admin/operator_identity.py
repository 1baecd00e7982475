"""The operator's identity on its public pages (booking, confirmations, shared documents,
surveys, privacy notice): its name, and the logo its administrator uploads — a PNG or a JPEG,
read by Pillow whatever its name says, re-encoded as a PNG of at most 600 × 200 pixels, which
drops any metadata (GPS position, author, comments) and any content hidden after the image."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, select

from app.core.errors import Forbidden, Invalid, NotFound
from app.core.storage import delete_after_commit, get_storage
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser

# Before an operator is known (the national entry) public pages say what the service is.
NEUTRAL_NAME = "Conseil en évolution professionnelle"
LOGO_FIELD = "logo"
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_BOX = (600, 200)
# A small file may announce a huge image: refused before it is decoded.
LOGO_MAX_PIXELS = 25_000_000
LOGO_FORMATS = {"PNG", "JPEG"}
LOGO_REFUSED = "Choisissez une image PNG ou JPEG."


@dataclass(frozen=True)
class PublicBrand:
    """What a public page's header and title show."""

    name: str
    logo_url: str | None = None


NEUTRAL_BRAND = PublicBrand(NEUTRAL_NAME)


def logo_version(key: str) -> str:
    """A short tag that changes with each upload: the address changes, caches never serve an
    old logo, and the storage key itself is never shown."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def brand_of(operator: Operator) -> PublicBrand:
    """The operator's name, and the address of its logo when one was uploaded."""
    if not operator.logo_key:
        return PublicBrand(operator.name)
    return PublicBrand(operator.name, f"/logos/{operator.code}?v={logo_version(operator.logo_key)}")


def require_identity_admin(actor: StaffUser) -> StaffUser:
    """Only the operator's administrators change its logo (Forbidden for anyone else)."""
    if actor.role != Role.OPERATOR_ADMIN or actor.operator_id is None:
        raise Forbidden("Seul·es les administrateur·rices de l'opérateur changent son logo.")
    return actor


def _own_operator(session: Session, actor: StaffUser) -> Operator:
    require_identity_admin(actor)
    return session.get(Operator, actor.operator_id)


def identity_of(*, session: Session, actor: StaffUser) -> Operator:
    """The actor's operator, as its public pages name it; operator admins only."""
    return _own_operator(session, actor)


def _whole(raw: bytes) -> None:
    """Refuse a cut-off file. Pillow would fill the missing part in grey wherever WeasyPrint
    is loaded (it sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process), so a PNG's
    chunks are checked (verify) and a JPEG must reach its end-of-image marker."""
    with Image.open(io.BytesIO(raw)) as image:
        if image.format == "PNG":
            image.verify()
        elif image.format == "JPEG" and not raw.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
            raise Invalid({LOGO_FIELD: LOGO_REFUSED})


def logo_png(raw: bytes) -> bytes:
    """The image as a PNG within LOGO_BOX, without metadata; Invalid unless it is a whole PNG
    or JPEG that decodes."""
    try:
        _whole(raw)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in LOGO_FORMATS:
                raise Invalid({LOGO_FIELD: LOGO_REFUSED})
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise Invalid(
                    {LOGO_FIELD: "Cette image est trop grande : 600 × 200 pixels suffisent."}
                )
            image.load()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            shown = image.convert("RGBA" if has_alpha else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Invalid({LOGO_FIELD: LOGO_REFUSED}) from None
    shown.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    shown.save(out, format="PNG", optimize=True)
    return out.getvalue()


def set_logo(*, session: Session, actor: StaffUser, raw: bytes) -> Operator:
    """Keep the uploaded image as the operator's logo, in place of any earlier one."""
    operator = _own_operator(session, actor)
    if len(raw) > LOGO_MAX_BYTES:
        raise Invalid({LOGO_FIELD: "Image trop volumineuse : 2 Mo au maximum."})
    storage = get_storage()
    key = storage.save(logo_png(raw))
    earlier, operator.logo_key = operator.logo_key, key
    session.add(operator)
    try:
        session.flush()
    except BaseException:
        storage.delete(key)  # no image without the row that points at it
        raise
    if earlier:
        delete_after_commit(session, [earlier])
    return operator


def remove_logo(*, session: Session, actor: StaffUser) -> Operator:
    """« Retirer le logo »: public pages show the name alone again."""
    operator = _own_operator(session, actor)
    earlier, operator.logo_key = operator.logo_key, None
    session.add(operator)
    session.flush()
    if earlier:
        delete_after_commit(session, [earlier])
    return operator


def logo_file(*, session: Session, code: str) -> tuple[bytes, str]:
    """The PNG of the operator's logo and its version; NotFound when it has none."""
    found = session.exec(select(Operator.logo_key).where(Operator.code == code.upper())).first()
    if not found:
        raise NotFound("Pas de logo")
    try:
        return get_storage().read(found), logo_version(found)
    except FileNotFoundError:
        raise NotFound("Pas de logo") from None
