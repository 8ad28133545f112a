"""ServiceSettings: README defaults, env overrides, clear errors for bad values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from shop.common.settings import ServiceSettings


def test_defaults_match_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "HOST", "PAYMENTS_URL", "BREAKER_ENABLED", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings()
    assert settings.host == "127.0.0.1"
    assert settings.payments_url == "http://127.0.0.1:8103"
    assert (settings.http_connect_timeout, settings.http_read_timeout) == (0.5, 1.0)
    assert (settings.retry_max_attempts, settings.retry_budget_ratio) == (3, 0.2)
    assert (settings.breaker_window_size, settings.breaker_min_calls) == (20, 5)
    assert settings.breaker_enabled
    assert settings.outbox_enabled
    assert not settings.shop_test_mode
    assert settings.log_level == "INFO"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMENTS_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("BREAKER_ENABLED", "false")
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("log_level", "debug")
    settings = ServiceSettings()
    assert settings.payments_url == "http://127.0.0.1:9999"
    assert not settings.breaker_enabled
    assert settings.retry_max_attempts == 5
    assert settings.log_level == "DEBUG"


def test_subclass_sets_service_defaults_that_env_still_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class UsersLikeSettings(ServiceSettings):
        port: int = 8101

    monkeypatch.delenv("PORT", raising=False)
    assert UsersLikeSettings().port == 8101
    monkeypatch.setenv("PORT", "0")
    assert UsersLikeSettings().port == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("BREAKER_FAILURE_RATE", "1.5"), ("RETRY_MAX_ATTEMPTS", "0"), ("PORT", "70000")],
)
def test_out_of_range_values_are_rejected_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        ServiceSettings()
