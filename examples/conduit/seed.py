"""Demo data for ``make demo``: members, articles with tags, comments, follows and favorites.

``plait conduit seed`` runs :func:`seed` once: when any member exists it changes nothing, so a
restart never duplicates the demo (nor touches what people added since).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conduit import services
from conduit.models import Favorite, Follow, Member
from plait.db.models import utcnow

__all__ = ["ADMIN", "MEMBERS", "PASSWORD", "seed"]

PASSWORD = "conduit-demo-2024"  # noqa: S105 - the published password of the demo accounts
ADMIN = {"username": "admin", "email": "admin@conduit.example"}
"""The demo superuser (``/admin``); its password is :data:`PASSWORD`."""

MEMBERS = [
    {"username": "ada", "email": "ada@conduit.example", "bio": "Counts things. Writes about engines."},
    {"username": "grace", "email": "grace@conduit.example", "bio": "Compilers, COBOL and nanoseconds."},
    {"username": "linus", "email": "linus@conduit.example", "bio": "Talk is cheap."},
]

ARTICLES: list[dict[str, Any]] = [
    {
        "author": "ada",
        "title": "Notes on the Analytical Engine",
        "description": "What a machine that weaves numbers can do",
        "tags": ["engines", "history"],
        "body": (
            "The engine **weaves algebraic patterns** just as the Jacquard loom weaves flowers and leaves.\n\n"
            "## What it can do\n\n- add, subtract, multiply, divide\n- repeat a *cycle* of operations\n"
            "- keep results for later\n\n> It has no pretensions to originate anything.\n"
        ),
    },
    {
        "author": "grace",
        "title": "A nanosecond is this long",
        "description": "Why the speed of light matters to programmers",
        "tags": ["hardware", "history"],
        "body": (
            "Hold up a wire **11.8 inches** long: that is how far light goes in a nanosecond.\n\n"
            "```\nlatency = distance / c\n```\n\nEvery satellite hop costs you millions of them.\n"
        ),
    },
    {
        "author": "linus",
        "title": "Release early, release often",
        "description": "On small patches and many eyes",
        "tags": ["open-source", "process"],
        "body": "Small patches are **easy to review**.\n\n1. send it\n2. listen\n3. send the next one\n",
    },
    {
        "author": "grace",
        "title": "It is easier to ask forgiveness",
        "description": "than it is to get permission",
        "tags": ["process"],
        "body": "A ship in port is safe, but that is not what ships are built for.\n",
    },
]
FOLLOWS = [("ada", "grace"), ("linus", "grace"), ("grace", "ada")]
FAVORITES = [("ada", 1), ("linus", 1), ("grace", 0), ("ada", 2)]
COMMENTS = [
    ("grace", 0, "Beautifully put: *weaving* is exactly it."),
    ("linus", 1, "I keep a nanosecond on my desk now."),
    ("ada", 1, "And a microsecond is a coil of 984 feet."),
]


async def seed(auth: Any, db: AsyncSession) -> bool:
    """Add the demo data unless a member exists already; True when it was added."""
    if (await db.execute(select(Member.id).limit(1))).first() is not None:
        return False
    admin = await auth.create_user(
        db, **ADMIN, password=PASSWORD, validate=False, is_staff=True, is_superuser=True, bio="Runs the place."
    )
    members: dict[str, Member] = {"admin": admin}
    for fields in MEMBERS:
        members[fields["username"]] = await auth.create_user(db, **fields, password=PASSWORD, validate=False)
    start = utcnow() - timedelta(days=len(ARTICLES))
    articles = []
    for day, spec in enumerate(ARTICLES):
        article = await services.create_article(
            db,
            members[spec["author"]],
            title=spec["title"],
            description=spec["description"],
            body=spec["body"],
            tags=spec["tags"],
        )
        article.created_at = article.updated_at = start + timedelta(days=day)  # spread out, oldest first
        articles.append(article)
    db.add_all(Follow(follower_id=members[a].id, followed_id=members[b].id) for a, b in FOLLOWS)
    db.add_all(Favorite(member_id=members[who].id, article_id=articles[index].id) for who, index in FAVORITES)
    for who, index, body in COMMENTS:
        await services.add_comment(db, members[who], articles[index].slug, body)
    await db.flush()
    return True
