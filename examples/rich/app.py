"""A pet shop that shows what Plait's OpenAPI document describes, all from the code below.

Path, query, header and cookie parameters with constraints; msgspec Structs, dataclasses,
TypedDicts and pydantic models as bodies; urlencoded and multipart forms with files; enums,
unions, ``Literal``, a recursive type; tags from routers; docstrings as summaries; deprecated
routes; extra responses; examples.

Try it::

    plait run examples/rich/app.py
    open http://127.0.0.1:8000/docs      # Swagger UI, served by the app (no internet needed)
    open http://127.0.0.1:8000/redoc     # ReDoc
    plait openapi examples/rich/app.py --format yaml
"""

import dataclasses
import enum
from typing import Annotated, Literal, NotRequired, TypedDict

import msgspec
import pydantic

from plait.app import Plait
from plait.datastructures import UploadFile
from plait.di import Depends
from plait.exceptions import HTTPException
from plait.params import Body, Cookie, File, Form, Header, Path, Query
from plait.responses import HTMLResponse
from plait.routing import Router

app = Plait(title="Plait Pet Shop", version="1.0.0")

# -- types ------------------------------------------------------------------------------------------


class Species(enum.Enum):
    """What kind of animal a pet is."""

    DOG = "dog"
    CAT = "cat"
    BIRD = "bird"


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="A display name.", examples=["Rex"])]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern="^[a-z0-9-]+$")]


class PetIn(msgspec.Struct, forbid_unknown_fields=True):
    """A pet to add to the shop."""

    name: Name
    species: Species
    age: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    tags: Annotated[list[Tag], msgspec.Meta(max_length=10)] = []


class Pet(msgspec.Struct):
    """A pet in the shop."""

    id: int
    name: str
    species: Species
    age: int
    tags: list[str]


class Page(msgspec.Struct):
    """Which slice of a list to return (read from the query string)."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=100, description="At most this many items.")] = 10
    offset: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


class Circle(msgspec.Struct, tag="circle"):
    radius: Annotated[float, msgspec.Meta(gt=0, le=1000)]


class Square(msgspec.Struct, tag="square"):
    side: Annotated[float, msgspec.Meta(gt=0, le=1000)]


Shape = Circle | Square  # a union told apart by its "type" member


class Category(msgspec.Struct):
    """A category and its subcategories, to any depth."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    children: list["Category"] = []


@dataclasses.dataclass
class Address:
    """A postal address."""

    street: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    postcode: Annotated[str, msgspec.Meta(pattern="^[0-9]{5}$")]


class Preferences(TypedDict):
    """How a user likes to be contacted."""

    newsletter: bool
    theme: NotRequired[Literal["light", "dark"]]


class UserIn(pydantic.BaseModel):
    """A new user account."""

    email: str = pydantic.Field(pattern=r"^[a-z0-9.]+@[a-z0-9.]+$", max_length=80, examples=["ada@example.com"])
    name: str = pydantic.Field(min_length=1, max_length=60)
    role: Literal["customer", "staff"] = "customer"


class User(pydantic.BaseModel):
    """A user account."""

    id: int
    email: str
    name: str
    role: Literal["customer", "staff"]


class Login(msgspec.Struct):
    """Sign-in form fields."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]


# -- storage (in memory, for the example) ---------------------------------------------------------

PETS: dict[int, Pet] = {1: Pet(1, "Rex", Species.DOG, 3, ["good-boy"])}
USERS: dict[int, User] = {1: User(id=1, email="ada@example.com", name="Ada", role="staff")}


def find_pet(pet_id: Annotated[int, Path(ge=1, le=1_000_000, description="The pet's number.")]) -> Pet:
    """A provider: the pet named in the path, or a 404."""
    pet = PETS.get(pet_id)
    if pet is None:
        raise HTTPException(404, f"No pet has the id {pet_id}.")
    return pet


FoundPet = Annotated[Pet, Depends(find_pet)]


def require_staff(x_api_key: Annotated[str, Header(min_length=1, max_length=64, description="Staff key.")]) -> None:
    """A guard for the staff routes."""
    if x_api_key != "staff-secret":
        raise HTTPException(401, "Send a valid staff key in X-Api-Key.")


# -- pets -----------------------------------------------------------------------------------------

pets = Router(prefix="/pets", tags=["pets"])


@pets.get("/")
def list_pets(
    page: Annotated[Page, Query()],
    species: Species | None = None,
    sort: Literal["name", "age"] = "name",
    tag: Annotated[list[str], Query(description="Only pets with all these tags.", max_length=5)] = [],  # noqa: B006
    q: Annotated[str | None, Query(min_length=1, max_length=40, examples=["re"])] = None,
) -> list[Pet]:
    """List pets.

    Filter by species, tags or a piece of the name, then sort and page through the result.
    """
    found = [p for p in PETS.values() if species is None or p.species is species]
    found = [p for p in found if all(t in p.tags for t in tag) and (q is None or q.lower() in p.name.lower())]
    found.sort(key=lambda p: (p.name, p.id) if sort == "name" else (p.age, p.id))
    return found[page.offset : page.offset + page.limit]


@pets.post("/", status_code=201)
def create_pet(pet: PetIn) -> Pet:
    """Add a pet."""
    new = Pet(max(PETS, default=0) + 1, pet.name, pet.species, pet.age, list(pet.tags))
    if len(PETS) < 1000:  # the example keeps its memory bounded
        PETS[new.id] = new
    return new


@pets.get("/{pet_id:int}", responses={404: "No pet has this id."})
def get_pet(pet: FoundPet) -> Pet:
    """Fetch one pet."""
    return pet


@pets.get("/{pet_id:int}/card", response_class=HTMLResponse, responses={404: "No pet has this id."})
def pet_card(pet: FoundPet) -> str:
    """A pet's card, as an HTML fragment."""
    import html

    return f"<article><h1>{html.escape(pet.name)}</h1><p>{pet.species.value}, {pet.age}</p></article>"


@pets.post("/{pet_id:int}/transfer", responses={404: "No pet has this id."})
def transfer_pet(
    pet: FoundPet,
    owner: Annotated[str, Body(min_length=1, max_length=60, description="The new owner's name.")],
    note: Annotated[str | None, Body(max_length=200)] = None,
) -> dict[str, str | int | None]:
    """Hand a pet over to a new owner (two body members, merged into one JSON object)."""
    return {"pet": pet.id, "owner": owner, "note": note}


@pets.delete("/{pet_id:int}", status_code=204, dependencies=[Depends(require_staff)], responses={401: "Bad key."})
def delete_pet(pet_id: Annotated[int, Path(ge=1, le=1_000_000)]) -> None:
    """Remove a pet (staff only)."""
    PETS.pop(pet_id, None)


@pets.get("/legacy-search", deprecated=True)
def legacy_search(name: Annotated[str, Query(min_length=1, max_length=40, deprecated=True)]) -> list[Pet]:
    """Search by exact name.

    Use ``GET /pets?q=...`` instead.
    """
    return [p for p in PETS.values() if p.name == name]


# -- users ----------------------------------------------------------------------------------------

users = Router(prefix="/users", tags=["users"])


@users.post("/", status_code=201, responses={409: "The email is taken."})
def create_user(user: UserIn) -> User:
    """Open an account (a pydantic model in, another out)."""
    if any(u.email == user.email for u in USERS.values()):
        raise HTTPException(409, f"{user.email} already has an account.")
    return User(id=max(USERS) + 1, email=user.email, name=user.name, role=user.role)


@users.get("/{user_id:int}", responses={404: "No user has this id."})
def get_user(
    user_id: Annotated[int, Path(ge=1, le=1_000_000)],
    x_request_id: Annotated[str | None, Header(max_length=64, description="Echoed back for tracing.")] = None,
    session: Annotated[str | None, Cookie(max_length=100)] = None,
) -> User:
    """Fetch a user."""
    user = USERS.get(user_id)
    if user is None:
        raise HTTPException(404, f"No user has the id {user_id}.")
    return user


@users.put("/{user_id:int}/address")
def set_address(user_id: Annotated[int, Path(ge=1, le=1_000_000)], address: Address) -> Address:
    """Replace a user's address (a dataclass body)."""
    return address


@users.patch("/{user_id:int}/preferences")
def set_preferences(user_id: Annotated[int, Path(ge=1, le=1_000_000)], preferences: Preferences) -> Preferences:
    """Change how a user is contacted (a TypedDict body)."""
    return preferences


# -- forms and files ------------------------------------------------------------------------------

forms = Router(prefix="/forms", tags=["forms"])


@forms.post("/login")
def login(form: Annotated[Login, Form()]) -> dict[str, str]:
    """Sign in with an urlencoded form."""
    return {"user": form.username}


@forms.post("/profile")
async def upload_profile(
    name: Annotated[str, Form(min_length=1, max_length=40, description="Shown next to the picture.")],
    picture: Annotated[UploadFile, File(description="A square picture.")],
    extras: Annotated[list[UploadFile] | None, File()] = None,
    public: Annotated[bool, Form()] = True,
) -> dict[str, str | int | bool]:
    """Upload a profile picture with multipart/form-data."""
    data = await picture.read()
    return {"name": name, "bytes": len(data), "extras": len(extras or []), "public": public}


# -- everything else ------------------------------------------------------------------------------


@app.get("/health", tags=["meta"])
def health() -> str:
    """Say the shop is up (plain text)."""
    return "ok"


@app.post("/shapes/area", tags=["meta"])
def area(shape: Annotated[Shape, Body()]) -> dict[str, float]:
    """Compute the area of a circle or a square (a tagged union)."""
    if isinstance(shape, Circle):
        return {"area": 3.141592653589793 * shape.radius**2}
    return {"area": shape.side**2}


@app.post("/categories/count", tags=["meta"])
def count_categories(root: Category, depth: Annotated[int, Query(ge=1, le=32)] = 32) -> dict[str, int]:
    """Count the categories in a tree (a recursive type), down to ``depth`` levels."""

    def count(node: Category, level: int) -> int:
        return 1 + (sum(count(c, level + 1) for c in node.children) if level < depth else 0)

    return {"count": count(root, 1)}


@app.get("/lookup/{key}", tags=["meta"], operation_id="lookup")
def lookup(
    key: Annotated[str, Path(min_length=1, max_length=20)],
    kind: int | Literal["all"] = "all",
) -> dict[str, str | int]:
    """Look a key up; ``kind`` is a number or ``all`` (a union of scalars)."""
    return {"key": key, "kind": kind}


app.include_router(pets)
app.include_router(users)
app.include_router(forms)
