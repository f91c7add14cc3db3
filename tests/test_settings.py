"""The company settings file: the demo parses, and every mistake is named by its key."""
import tomllib
from importlib import resources

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.messages import validate_templates
from bot.core.settings import SettingsError, load_settings, parse_settings


def demo():
    return tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))


def test_the_demo_company_parses():
    s = load_settings()
    assert s.tz.key == "Asia/Tokyo" and s.jobs["bakery-staff"].interviewers == ("sato", "tanaka")
    assert s.rules.working_hours[6] == [] and s.offer_count == 3


@pytest.mark.parametrize("change, key", [
    (lambda d: d["company"].pop("phone"), "company.phone"),
    (lambda d: d["company"].update(timezone="Mars/Olympus"), "company.timezone"),
    (lambda d: d["jobs"][0].update(interviewers=["nobody"]), "jobs[0].interviewers"),
    (lambda d: d["jobs"][1].update(mode="telepathy"), "jobs[1].mode"),
    (lambda d: d["jobs"].append(dict(d["jobs"][0])), "jobs[2].id"),
    (lambda d: d["schedule"].update(slot_minutes="thirty"), "schedule.slot_minutes"),
    (lambda d: d["schedule"].update(slot_minutes=0), "schedule.slot_minutes"),
    (lambda d: d["schedule"]["working_hours"].update(mon=["18:00-10:00"]), "schedule.working_hours.mon[0]"),
    (lambda d: d["schedule"]["working_hours"].update(mon=["10-12"]), "schedule.working_hours.mon[0]"),
    (lambda d: d["schedule"]["working_hours"].update(funday=["10:00-12:00"]), "schedule.working_hours.funday"),
    (lambda d: d["content"][0].update(url="ftp://x"), "content[0].url"),
    (lambda d: d["content"][0].update(kind="podcast"), "content[0].kind"),
    (lambda d: d["quiet_hours"].update(start="late"), "quiet_hours.start"),
    (lambda d: d.update(interviewers=[]), "interviewers"),
])
def test_a_bad_setting_names_its_key(change, key):
    data = demo()
    change(data)
    with pytest.raises(SettingsError) as err:
        parse_settings(data)
    assert err.value.key == key and key in str(err.value)


def test_template_overrides_are_checked_at_start():
    data = demo()
    data["templates"]["ja"] = {"greeting": "{name}さん、ようこそ {unknown_field}"}
    with pytest.raises(SettingsError, match=r"templates\.ja\.greeting.*unknown_field"):
        validate_templates(parse_settings(data))
    data["templates"]["ja"] = {"no_such_message": "x"}
    with pytest.raises(SettingsError, match="no such message"):
        validate_templates(parse_settings(data))


def test_a_template_override_is_used(client, svc):
    from dataclasses import replace

    from bot.core.messages import Recipient, Renderer

    settings = replace(svc.settings, templates={"ja": {"handoff": "{name}さん、少々お待ちください！"}})
    text = Renderer(settings, "http://x").render("handoff", Recipient("花子", "ja", "bakery-staff"))["text"]
    assert text == "花子さん、少々お待ちください！"


def test_the_cli_refuses_to_start_on_bad_settings_with_the_key(tmp_path, monkeypatch):
    bad = tmp_path / "company.toml"
    bad.write_text('[company]\nname = "x"\n', encoding="utf-8")
    monkeypatch.setenv("SOKURESU_SETTINGS", str(bad))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-0123456789abcdef")
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0 and "company.phone: is required" in result.output


def test_a_missing_or_broken_settings_file_is_named(tmp_path):
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(str(tmp_path / "missing.toml"))
    broken = tmp_path / "broken.toml"
    broken.write_text("[company\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(str(broken))


def test_protection_defaults_are_safe_and_typos_fail_at_start():
    import copy
    import tomllib
    from importlib import resources

    from bot.core.settings import SettingsError, parse_settings

    base = tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))
    s = parse_settings(copy.deepcopy(base))
    assert s.country == "JP" and s.protection.countries == () and s.protection.sms_mobile_only
    assert s.protection.greetings_per_day == 1 and s.protection.proof_of_work
    us = copy.deepcopy(base)
    us["company"]["phone"] = "+1 415 555 0100"
    assert parse_settings(us).country == "US"
    for table, key in (({"form_per_client": "five a minute"}, "protection.form_per_client"),
                       ({"countries": ["japan"]}, "protection.countries[0]"),
                       ({"captcha": True}, "protection.captcha")):
        bad = copy.deepcopy(base)
        bad["protection"] = table
        try:
            parse_settings(bad)
        except SettingsError as exc:
            assert key in str(exc)
        else:
            raise AssertionError(f"{table} was accepted")
