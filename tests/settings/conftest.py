"""The settings tests: U0ADMIN is an admin (AURUM_ADMINS); U0USER, the fake Slack's default user, is not."""

from __future__ import annotations

import pytest

ADMIN = "U0ADMIN"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"aurum_admins": ADMIN})
