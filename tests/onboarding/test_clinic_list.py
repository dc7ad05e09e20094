"""`tandem clinic list`, as docs/contract.md shows it (in this process: tests/support/cli.py; the
README's commands run it as a process, tests/test_readme_commands.py)."""

from __future__ import annotations

from tests.support.cli import tandem, tandem_json


def test_clinic_list_prints_every_clinic_with_the_id_other_commands_take(database_url: str) -> None:
    assert tandem_json("clinic", "list") == []
    lyon = ["--name", "Centre Lyon", "--admin-email", "a@lyon.example.org", "--admin-name", "Ada", "--locale", "fr"]
    made = tandem_json("clinic", "create", *lyon, "--country", "FR", "--timezone", "Europe/Paris")
    riverside = ["--name", "Riverside", "--admin-email", "b@rs.example.org", "--admin-name", "Bo"]
    other = tandem_json("clinic", "create", *riverside)

    listed = tandem_json("clinic", "list")

    assert listed == [
        {"id": made["clinic_id"], "name": "Centre Lyon", "locale": "fr", "country": "FR"},
        {"id": other["clinic_id"], "name": "Riverside", "locale": "en", "country": "US"},
    ]
    # The id listed is the one `tandem staff add --clinic` accepts.
    added = tandem_json("staff", "add", "--clinic", listed[1]["id"], "--email", "dr@rs.example.org", "--name", "Dr Lee")
    assert added["email"] == "dr@rs.example.org"

    human = tandem("clinic", "list")
    assert human.exit_code == 0
    assert made["clinic_id"] in human.stdout and "Centre Lyon" in human.stdout and "Riverside" in human.stdout
