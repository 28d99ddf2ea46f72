"""Under CI a missing PostgreSQL server fails the ``postgres`` tests; elsewhere it skips them."""

from __future__ import annotations

import pytest

from tests.test_db.conftest import require_postgres


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_in_ci_a_missing_server_fails(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI is set, so this is a failure, not a skip"):
        require_postgres("ConnectionRefusedError: refused")


@pytest.mark.parametrize("value", [None, "", "false"])
def test_elsewhere_a_missing_server_skips(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="is not answering"):
        require_postgres("ConnectionRefusedError: refused")


def test_a_running_server_passes() -> None:
    require_postgres(None)
