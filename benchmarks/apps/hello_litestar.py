"""Hello world in Litestar: the app whose worker memory the report compares."""

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}


app = Litestar(route_handlers=[hello])
