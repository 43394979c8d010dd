"""Hypothesis settings derived from the active profile.

The profile is chosen by ``--fc-profile`` (the plugin exports it as ``FC_PROFILE`` before
test modules are imported, so xdist workers see the same one) or by ``FC_PROFILE`` itself.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

from fc_check.budget import Profile, profile

PROFILE_ENV = "FC_PROFILE"


def active_profile() -> Profile:
    return profile(os.environ.get(PROFILE_ENV, "default"))


def fc_settings(heavy: bool = False) -> settings:
    """Settings for a claim test: no deadline (simulations are slow), no database, generated
    examples from the profile, shrinking off (a failing check reports at once; the report
    carries the failing regime), ``target()`` phase on where examples are generated."""
    prof = active_profile()
    generated = prof.heavy_generated if heavy else prof.generated
    phases = [Phase.explicit] if generated == 0 else [Phase.explicit, Phase.generate, Phase.target]
    return settings(
        max_examples=max(1, generated),
        phases=phases,
        derandomize=prof.derandomize,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
