"""The operator's templates are checked when saved, with the reason, not at send time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hub.builtin.review_requests.settings import Settings, check_template, fill
from hub.plugins.states import SettingsError
from hub.roles.cli import build_cli
from tests.conftest import base_env


@pytest.mark.parametrize(("template", "message"), [
    ("Thanks {nmae}", "unknown placeholder {nmae}; use {name}, {review_url}, {invoice_number}"),
    ("Thanks {name", "expected '}' before end of string; write {{ or }} for a literal brace"),
    ("Thanks name}", "Single '}' encountered in format string; write {{ or }} for a literal"),
    ("Thanks {}", "unknown placeholder {}"),
    ("Thanks {0}", "unknown placeholder {0}"),
    ("Thanks {name.__class__}", "unknown placeholder {name.__class__}"),
    ("Thanks {name!r}", "write the placeholder plainly as {name}, without ! or :"),
    ("Thanks {name:>40}", "write the placeholder plainly as {name}, without ! or :"),
])
def test_a_bad_placeholder_is_refused_with_the_reason(template: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Settings(subject=template)
    assert message in str(caught.value)


def test_good_templates_fill_in_every_placeholder() -> None:
    assert check_template("{name} {review_url} {invoice_number} {{braces}}") == {
        "name", "review_url", "invoice_number"}
    settings = Settings.model_validate({"subject": "Invoice {invoice_number}: {{thanks}}",
                                        "body": "Hi {name}, {review_url}",
                                        "review_url": "https://example.com/r"})
    values = {"name": "Ann", "review_url": str(settings.review_url), "invoice_number": "7"}
    assert fill(settings.subject, values) == "Invoice 7: {thanks}"
    assert fill(settings.body, values) == "Hi Ann, https://example.com/r"
    # A name with braces in it is data, not a template.
    assert fill("Hi {name}", {"name": "{review_url}"}) == "Hi {review_url}"


@given(template=st.lists(st.sampled_from(list("{}!:.[]0 ab") + [
    "{name}", "{review_url}", "{invoice_number}", "{{", "}}"]), max_size=12).map("".join),
       values=st.dictionaries(st.sampled_from(["name", "review_url", "invoice_number"]),
                              st.text(max_size=10)))
def test_a_template_that_is_accepted_always_fills(template: str, values: dict[str, str]
                                                  ) -> None:
    """Whatever the operator types: refused when saved, or filled at send time, never a crash
    in between."""
    try:
        check_template(template)
    except ValueError:
        return
    assert isinstance(fill(template, values), str)


def test_the_body_must_carry_the_link_and_the_subject_is_one_line() -> None:
    with pytest.raises(ValueError, match="the body must contain {review_url}"):
        Settings(body="Thanks {name}, please review us at {{review_url}}")
    with pytest.raises(ValueError, match="a subject is one line"):
        Settings(subject="Thanks\nBcc: everyone@example.com")


def test_hub_plugins_set_refuses_a_bad_template_and_blank_unsets_the_url(
        make_reviews_hub: Any) -> None:
    hub = make_reviews_hub(None)
    with pytest.raises(SettingsError) as caught:
        hub.states.update_settings("review_requests", {"body": "Hi {nmae}, {review_url}"})
    [(field, message)] = caught.value.errors
    assert field == "body" and message.startswith("unknown placeholder {nmae}")
    hub.states.update_settings("review_requests", {"review_url": ""})
    assert hub.states.settings("review_requests").review_url is None


def test_the_command_line_names_the_field_and_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_cli(), ["plugins", "set", "review_requests",
                                              "subject=Thanks {nmae}"], env=base_env(tmp_path))
    assert result.exit_code == 2
    assert "error: review_requests.subject: unknown placeholder {nmae}" in result.output
