"""Property tests: random values of every type for every option of
Sandbox() and run() give a result or a typed exception (an Exception:
ValueError, TypeError, OverflowError or a SandboxError), never a panic
(pyo3's PanicException is a BaseException that `except Exception` misses)
and never a crash."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandboxcore as sc

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e20, 1e300, -0.0, math.inf, -math.inf, math.nan, 2**64, 2**63 - 1]),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
    st.tuples(st.integers(-5, 2**40), st.integers(-5, 2**40)),
)

RUN_OPTIONS = [
    "timeout", "cwd", "env", "stdin", "memory", "processes", "output_limit",
    "network", "labels", "writable", "deny_read",
]
BACKEND_OPTIONS = [
    "isolation", "writable", "deny_read", "protected", "tmp_size", "cwd_writable",
    "run_as", "cgroups", "network_isolation", "kill_grace", "inherit_env",
    "allow_secrets", "shell",
]


@pytest.fixture(scope="module")
def sandbox():
    with sc.Sandbox(sc.Policy.for_mode("selfhosted")) as sb:
        yield sb


def outcome(call):
    try:
        return call()
    except Exception as e:  # noqa: BLE001 - any typed error is fine; a panic is not an Exception
        return e


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(RUN_OPTIONS), value=ANY)
def test_any_run_option_value_is_a_result_or_a_typed_error(sandbox, name, value):
    r = outcome(lambda: sandbox.run(["true"], **{name: value}))
    assert isinstance(r, (sc.RunResult, Exception)), r


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(BACKEND_OPTIONS), value=ANY)
def test_any_backend_option_value_is_a_sandbox_or_a_typed_error(name, value):
    r = outcome(lambda: sc.Sandbox(sc.Policy.for_mode("selfhosted"), **{name: value}))
    assert isinstance(r, (sc.Sandbox, Exception)), r
    if isinstance(r, sc.Sandbox):
        r.close()
