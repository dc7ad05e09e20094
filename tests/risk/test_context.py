"""The failure modes of keyword lists (shared/clinical.md), one family at a time, in both languages."""

import pytest

from service.risk import RiskLevel, screen_text

IDIOMS = [
    ("en", "this exam is killing me"),
    ("en", "I could kill for a coffee"),
    ("en", "dying to see it"),
    ("en", "I nearly died of embarrassment in the meeting"),
    ("en", "my laptop died again, typical"),
    ("en", "we absolutely killed it at the gig"),
    ("en", "I'd rather die than go back to that dentist"),
    ("en", "overdosed on chocolate this weekend lol"),
    ("en", "I could kill myself for forgetting her birthday"),
    ("en", "cutting myself some slack today"),
    ("fr", "ça me tue"),
    ("fr", "je suis mort de rire"),
    ("fr", "je vais mourir de faim si on ne mange pas bientôt"),
    ("fr", "je me tue à la tâche pour ce projet"),
    ("fr", "on s'ennuie à mourir dans ce cours"),
    ("fr", "ce film était mortel"),
    ("fr", "je tuerais pour une sieste"),
    ("fr", "je veux en finir avec ce dossier avant vendredi"),
]

NEGATIONS = [
    ("en", "I would never kill myself"),
    ("en", "I'm not suicidal"),
    ("en", "no thoughts of self harm this week"),
    ("en", "I don't want to die, I want to feel better"),
    ("en", "I have never tried to kill myself"),
    ("en", "suicidal thoughts: none"),
    ("fr", "je ne me suiciderais jamais"),
    ("fr", "je ne suis pas suicidaire"),
    ("fr", "aucune idée suicidaire en ce moment"),
    ("fr", "je n'ai jamais essayé de me tuer"),
    ("fr", "je veux pas mourir"),
    ("fr", "pensées suicidaires : aucune"),
    *(
        pytest.param(
            lang,
            text,
            marks=pytest.mark.xfail(
                strict=True,
                reason="the learned model raises it to low on the negators themselves (« ne », « pas », "
                '"dont"): tests/risk/labelled/README.md, "Words a negation reaches"',
            ),
        )
        for lang, text in [("fr", "Je ne veux pas mourir"), ("fr", "je veux pas me tuer"), ("en", "I dont wanna die")]
    ),
]

OTHER_PEOPLE = [
    ("en", "my friend used to self-harm"),
    ("en", "My sister tried to kill herself in March"),
    ("en", "my brother attempted suicide"),
    ("en", "a boy in my son's class is suicidal and the parents are worried"),
    ("en", "she says she wants to die and I don't know how to help"),
    ("fr", "mon frère a fait une tentative"),
    ("fr", "mon frère a fait une tentative de suicide"),
    ("fr", "ma copine se scarifie depuis des mois"),
    ("fr", "il m'a dit qu'il avait envie de mourir"),
    ("fr", "une collègue est suicidaire et je m'inquiète"),
]

ACCIDENTS = [
    ("en", "I cut my finger cooking"),
    ("en", "cut myself on a broken glass at the pub"),
    ("en", "burned myself on the kettle this morning"),
    ("en", "hurt myself playing football"),
    ("fr", "je me suis coupé le doigt en cuisinant"),
    ("fr", "je me suis brûlée avec la poêle"),
    ("fr", "je me suis fait mal au genou en courant"),
]

ALGOSPEAK = [
    ("en", "kms", "low"),
    ("en", "ugh i just wanna kms", "low"),
    ("en", "honestly i should just kys", "low"),
    ("en", "thinking about unaliving myself", "low"),
    ("en", "sewer slide thoughts are back", "low"),
    ("en", "I'm going to unalive myself tonight", "high"),
    ("en", "had some s*icidal thoughts", "low"),
    ("en", "i want to k1ll myself", "low"),
    ("fr", "kms franchement", "low"),
]

NO_ACCENTS_OR_CAPITALS = [
    ("fr", "j'ai des idees suicidaires", "low"),
    ("fr", "je veux plus vivre, a quoi bon", "low"),
    ("fr", "JE VAIS ME TUER CE SOIR", "high"),
    ("fr", "je me suis scarifiee hier", "high"),
    ("fr", "jai envie de me faire du mal", "moderate"),
    ("en", "I WANT TO DIE", "low"),
    ("en", "im going to kill myself", "high"),
]

TYPOS = [
    ("en", "i have sucidal thoughts", "low"),
    ("en", "feeling suicidial", "low"),
    ("en", "i want to kil myself", "low"),
    ("en", "i want to kill my slef", "low"),
    ("en", "thinking about suiside", "low"),
    ("fr", "je veux me sucider", "low"),
    ("fr", "j'ai envie de me suicidé", "low"),
    ("fr", "je pense au sucide", "low"),
    ("fr", "envie de mourrir", "low"),
    ("fr", "des pensées suicidères", "low"),
]


@pytest.mark.parametrize(("lang", "text"), IDIOMS)
def test_idioms_about_death_are_not_risk(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE


@pytest.mark.parametrize(("lang", "text"), NEGATIONS)
def test_negated_statements_are_not_risk(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE


@pytest.mark.parametrize(("lang", "text"), OTHER_PEOPLE)
def test_reports_about_other_people_are_not_the_clients_risk(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE


@pytest.mark.parametrize(("lang", "text"), ACCIDENTS)
def test_accidental_injuries_are_not_self_harm(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE


@pytest.mark.parametrize(("lang", "text", "level"), ALGOSPEAK)
def test_algospeak_is_detected(lang, text, level):
    assert screen_text(text, lang).level is RiskLevel.parse(level)


@pytest.mark.parametrize(("lang", "text", "level"), NO_ACCENTS_OR_CAPITALS)
def test_text_without_accents_or_in_capitals_is_screened_the_same(lang, text, level):
    assert screen_text(text, lang).level is RiskLevel.parse(level)


@pytest.mark.parametrize(("lang", "text", "level"), TYPOS)
def test_common_misspellings_of_key_words_are_detected(lang, text, level):
    assert screen_text(text, lang).level is RiskLevel.parse(level)


def test_a_negation_does_not_reach_past_a_new_clause():
    assert screen_text("I don't know why, but I want to die", "en").level is RiskLevel.LOW
    assert screen_text("je ne sais pas pourquoi j'ai envie de mourir", "fr").level is RiskLevel.LOW


def test_phrases_that_only_look_like_negations_do_not_cancel_risk():
    assert screen_text("I can't stop thinking about suicide", "en").level is RiskLevel.LOW
    assert screen_text("not gonna lie, I want to kill myself", "en").level is RiskLevel.LOW
    assert screen_text("je n'arrête pas de penser au suicide", "fr").level is RiskLevel.LOW
    assert screen_text("je ne pense qu'à mourir", "fr").level is RiskLevel.LOW


def test_telling_someone_else_about_it_is_still_the_clients_risk():
    assert screen_text("I told my therapist about my suicidal thoughts", "en").level is RiskLevel.LOW
    assert screen_text("j'ai dit à ma mère que j'avais des idées suicidaires", "fr").level is RiskLevel.LOW


def test_a_wish_to_self_harm_is_an_urge_not_an_act():
    result = screen_text("I want to cut myself", "en")
    assert result.level is RiskLevel.MODERATE
    assert {item.rule for item in result.evidence} == {"en.self_harm.urge"}


def test_an_accident_exclusion_gives_way_when_the_client_says_it_was_on_purpose():
    assert screen_text("I burned myself on the oven on purpose", "en").level is RiskLevel.HIGH
    assert screen_text("je me suis brûlée avec le four exprès", "fr").level is RiskLevel.HIGH


def test_old_self_harm_is_moderate_and_recent_self_harm_high():
    assert screen_text("I used to cut myself years ago", "en").level is RiskLevel.MODERATE
    assert screen_text("I used to cut myself years ago and I cut myself again last night", "en").level is (
        RiskLevel.HIGH
    )
    assert screen_text("je me coupais quand j'étais ado", "fr").level is RiskLevel.MODERATE


def test_a_relayed_question_answered_no_is_not_risk_but_answered_yes_is():
    assert screen_text("My therapist asked if I'd had thoughts of suicide. I haven't.", "en").level is RiskLevel.NONE
    assert screen_text("My therapist asked if I'd had thoughts of suicide. I have.", "en").level is RiskLevel.LOW
    assert screen_text("La psy m'a demandé si j'avais des idées suicidaires. Non.", "fr").level is RiskLevel.NONE
    assert screen_text("La psy m'a demandé si j'avais des idées suicidaires. Oui.", "fr").level is RiskLevel.LOW


def test_someone_elses_threat_against_the_client_is_not_harm_to_others():
    assert screen_text("my mum is going to kill me when she sees my grades", "en").level is RiskLevel.NONE
    assert screen_text("ma mère va me tuer quand elle verra mes notes", "fr").level is RiskLevel.NONE


EVERYDAY_PHRASES_NEAR_RISK_WORDS = [
    ("en", "I'm doing it tonight, the essay is due tomorrow"),
    ("en", "going to kill it at the interview tomorrow"),
    ("en", "I picked a date for the wedding!"),
    ("en", "collecting my pills from the pharmacy after work"),
    ("en", "I want to end it with him, we're not happy"),
    ("fr", "je vais frapper le ballon plus fort au prochain match"),
    ("fr", "il faut que je passe à l'acte pour arrêter de fumer"),
    ("fr", "on a fixé la date du mariage"),
    ("fr", "je vais récupérer mes médicaments à la pharmacie"),
]


@pytest.mark.parametrize(("lang", "text"), EVERYDAY_PHRASES_NEAR_RISK_WORDS)
def test_everyday_phrases_that_share_words_with_risk_phrases_are_not_risk(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE
