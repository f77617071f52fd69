"""Numbers in settings are ASCII digits: Python's ``int`` and ``float`` also take Arabic-Indic,
full-width and other Unicode digits, which in a ``.env`` file are almost always a paste
accident, so such a value stops the start like any other bad setting (collected with the
others, named by its variable, its value never repeated)."""

from __future__ import annotations

import pytest

from context_service.errors import ConfigurationError
from context_service.settings import _FLOAT_FIELDS, _INT_FIELDS, load_settings

PORT = "CONTEXT_SERVICE_PORT"
LINK = "CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD"
REVIEW = "CONTEXT_SERVICE_IDENTITY_REVIEW_THRESHOLD"


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ=environ)
    return list(caught.value.extra["problems"])


@pytest.mark.parametrize(
    "raw",
    [
        "\u0663\u0660",  # Arabic-Indic
        "\u06f3\u06f0",  # Extended Arabic-Indic (Persian)
        "\uff13\uff10",  # full-width
        "\u0969\u0966",  # Devanagari
        "8\uff1000",  # one full-width digit among ASCII ones
        "\u00a08000",  # a no-break space before the digits
    ],
)
def test_an_integer_setting_in_non_ascii_digits_stops_the_start(raw: str) -> None:
    [problem] = _problems({PORT: raw})
    assert problem.startswith(f"{PORT} must be an integer")
    assert "ASCII digits" in problem
    assert raw.strip() not in problem  # the value is never repeated


@pytest.mark.parametrize("raw", ["\u0660\u066b\u0669", "\uff10.\uff19", "0.9\u0665", "\uff10.5"])
def test_a_threshold_in_non_ascii_digits_stops_the_start(raw: str) -> None:
    [problem] = _problems({LINK: raw})
    assert problem.startswith(f"{LINK} must be a number")
    assert "ASCII digits" in problem


@pytest.mark.parametrize("name", sorted(_INT_FIELDS))
def test_every_integer_setting_refuses_full_width_digits(name: str) -> None:
    var = "CONTEXT_SERVICE_" + name.upper()
    [problem] = _problems({var: "\uff13\uff10"})
    assert problem.startswith(f"{var} must be an integer")


@pytest.mark.parametrize("name", sorted(_FLOAT_FIELDS))
def test_every_number_setting_refuses_arabic_indic_digits(name: str) -> None:
    var = "CONTEXT_SERVICE_" + name.upper()
    [problem] = _problems({var: "\u0660.\u0669"})
    assert problem.startswith(f"{var} must be a number")


def test_non_ascii_numbers_are_named_together_with_other_problems() -> None:
    problems = _problems(
        {
            PORT: "\uff18\uff10\uff10\uff10",
            "CONTEXT_SERVICE_WORKERS": "\u0664",
            REVIEW: "\uff10.\uff15",
            "CONTEXT_SERVICE_LOG_LEVEL": "loud",
        }
    )
    assert len(problems) == 4
    assert any(p.startswith(f"{PORT} must be an integer") for p in problems)
    assert any(p.startswith("CONTEXT_SERVICE_WORKERS must be an integer") for p in problems)
    assert any(p.startswith(f"{REVIEW} must be a number") for p in problems)
    assert any(p.startswith("CONTEXT_SERVICE_LOG_LEVEL") for p in problems)


@pytest.mark.parametrize(
    ("raw", "port"),
    [("8080", 8080), (" 8080 ", 8080), ("+8080", 8080), ("08080", 8080)],
)
def test_ascii_integers_still_parse(raw: str, port: int) -> None:
    assert load_settings(environ={PORT: raw}).port == port


@pytest.mark.parametrize(
    ("raw", "value"), [("0.9", 0.9), ("1", 1.0), (".75", 0.75), ("1.", 1.0), ("+0.6", 0.6)]
)
def test_ascii_thresholds_still_parse(raw: str, value: float) -> None:
    settings = load_settings(environ={LINK: "1", REVIEW: raw})
    assert settings.identity_review_threshold == value


@pytest.mark.parametrize("raw", ["1e3", "nan", "inf", "1_000", "0x1F", "\u0663\u0660.0"])
def test_other_number_spellings_are_refused(raw: str) -> None:
    """Only a sign, ASCII digits and (for thresholds) one decimal point: an exponent, ``nan``,
    ``inf``, digit separators and hexadecimal are no way to write a port or a threshold."""
    problems = _problems({PORT: raw, REVIEW: raw})
    assert len(problems) == 2
    assert problems[0].startswith(f"{PORT} must be an integer")
    assert problems[1].startswith(f"{REVIEW} must be a number")


@pytest.mark.parametrize("port", ["\u0668\u0660", "\uff18\uff10"])
def test_a_base_url_with_a_non_ascii_port_is_refused(port: str) -> None:
    [problem] = _problems({"CONTEXT_SERVICE_LLM_BASE_URL": f"http://localhost:{port}/v1"})
    assert problem.startswith("CONTEXT_SERVICE_LLM_BASE_URL is not a valid URL")
