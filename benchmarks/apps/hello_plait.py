"""Hello world in Plait: the app whose worker memory the report compares."""

from plait import Plait

app = Plait()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello, World!"}
