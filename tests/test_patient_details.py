"""The patient-confidentiality guard finds what identifies patients and leaves ordinary stories alone."""

from datetime import date

import pytest

from beacon.bot.services.patient_details import find_patient_details

TODAY = date(2026, 11, 23)


def _kinds(story: str) -> list[str]:
    return [f.kind for f in find_patient_details(story, today=TODAY)]


@pytest.mark.parametrize(("story", "kind"), [
    ("Her NHS number was 943 476 5919 and she was scared.", "an NHS number"),
    ("NHS no 9434765919, a fall at home.", "an NHS number"),
    ("The patient (DOB 12/03/1948) was confused.", "a date of birth"),
    ("An elderly man born 4 June 1939 who lives alone.", "a date of birth"),
    ("He was born on a Tuesday, we think.", "a date of birth"),
    ("We went to a flat in CM1 1QH at 3am.", "a postcode"),
    ("The daughter rang 07700 900123 to thank the crew.", "a phone number"),
    ("Call +44 1245 123456 if you need her.", "a phone number"),
    ("Her son emailed jo.bloggs@example.com afterwards.", "an email address"),
])
def test_identifying_details_are_found(story: str, kind: str) -> None:
    assert kind in _kinds(story)


@pytest.mark.parametrize("story", [
    "On 12/03/2026 Sam stayed two hours past the end of her shift to make sure the crew got home safely.",
    "Priya led the station's 999 call review and cut our handover times by 20 minutes.",
    "Twenty years of service, always first to help a new paramedic settle in at Chelmsford.",
    "He organised the 5k run that raised £1,200 for the staff wellbeing fund in March 2025.",
])
def test_ordinary_stories_pass(story: str) -> None:
    assert _kinds(story) == []


def test_each_finding_quotes_what_it_found_in_order() -> None:
    findings = find_patient_details("Postcode IP1 2AB, then NHS 485 777 3456.", today=TODAY)
    assert [(f.kind, f.excerpt) for f in findings] == [("a postcode", "IP1 2AB"), ("an NHS number", "485 777 3456")]
