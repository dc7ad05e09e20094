import pytest

from service.risk.crisis import KINDS, countries, crisis_resources

# shared/clinical.md, "Crisis resources by country": country -> numbers that must be listed
CLINICAL_TABLE = {
    "US": ["988", "911"],
    "CA": ["988", "1-866-277-3553", "535353", "911"],
    "GB": ["116 123", "111", "999"],
    "FR": ["3114", "09 72 39 40 50", "15", "112"],
    "BE": ["0800 32 123", "1813", "112"],
    "CH": ["143", "147", "144"],
    "AU": ["13 11 14", "0477 13 11 14", "000"],
    "other": ["112"],
}
EMERGENCY = {
    "US": "911",
    "CA": "911",
    "GB": "999",
    "FR": "15",
    "BE": "112",
    "CH": "144",
    "AU": "000",
    "other": "112",
}


def test_every_country_of_the_clinical_table_has_its_own_resources():
    assert set(countries()) == set(CLINICAL_TABLE)


@pytest.mark.parametrize("country", list(CLINICAL_TABLE))
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_resources_list_every_line_of_the_clinical_table(country, locale):
    resources = crisis_resources(country, locale)
    phones = [resource.get("phone") for resource in resources.resources]
    assert all(number in phones for number in CLINICAL_TABLE[country])
    for resource in resources.resources:
        assert resource["kind"] in KINDS
        assert resource["name"]
        assert resource.get("phone") or resource.get("url")


@pytest.mark.parametrize("country", list(CLINICAL_TABLE))
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_the_message_names_the_countrys_emergency_number(country, locale):
    message = crisis_resources(country, locale).message
    assert EMERGENCY[country] in message
    assert len(message) < 330


def test_messages_are_in_the_clients_language():
    assert crisis_resources("FR", "fr").message.startswith("Vous n'avez pas à traverser cela sans aide.")
    assert "Si vous êtes en danger maintenant, appelez le 15" in crisis_resources("FR", "fr").message
    assert crisis_resources("FR", "en").message.startswith("You don't have to go through this alone.")
    assert "If you are in danger now, call 999" in crisis_resources("GB", "en").message


def test_canada_lists_the_quebec_line_in_french():
    resources = crisis_resources("ca", "fr-CA")
    assert resources.locale == "fr"
    assert "1 866 APPELLE" in resources.message
    names = [resource["name"] for resource in resources.resources]
    assert "Ligne québécoise de prévention du suicide, 1 866 APPELLE" in names
    assert {"name": "Texto de prévention du suicide au Québec", "phone": "535353", "url": "https://suicide.ca",
            "kind": "text"} in resources.resources  # fmt: skip


@pytest.mark.parametrize("country", [None, "", "DE", "zz"])
def test_an_unknown_country_gets_the_international_fallback(country):
    resources = crisis_resources(country, "en")
    assert resources.country == "other"
    assert "112" in resources.message
    assert {"name": "Befrienders Worldwide: helplines in your country", "url": "https://befrienders.org",
            "kind": "crisis"} in resources.resources  # fmt: skip


def test_uk_is_read_as_great_britain_and_an_unknown_locale_as_english():
    resources = crisis_resources("uk", "de-DE")
    assert (resources.country, resources.locale) == ("GB", "en")
    assert resources.resources[0]["name"] == "Samaritans"


def test_to_dict_is_the_contracts_crisis_object():
    data = crisis_resources("US", "en").to_dict()
    assert set(data) == {"message", "resources"}
    assert data["resources"][0] == {
        "name": "988 Suicide & Crisis Lifeline",
        "phone": "988",
        "url": "https://988lifeline.org",
        "hours": "24/7: call, text or chat",
        "kind": "crisis",
    }


def test_callers_cannot_change_the_shared_table():
    first = crisis_resources("US", "en")
    first.resources[0]["phone"] = "000"
    first.resources.clear()
    assert crisis_resources("US", "en").resources[0]["phone"] == "988"
