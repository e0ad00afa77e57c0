"""The moderator's de-identification helper and the rule that the substance stays."""

from marketplace.reviews.deidentify import deidentified_suggestion, substance_kept

STORY = (
    "Kamala Shah's carer Jo was rude to her twice. I rang the office on 020 8359 2000 "
    "and emailed help@sunrise.example, and they came to 12 Ballards Lane, N3 2SB late again."
)


def test_suggestion_removes_names_numbers_emails_and_addresses():
    suggestion = deidentified_suggestion(text=STORY, names=["Kamala Shah", "Priya Shah"])
    for identifying in ["Kamala", "Shah", "020 8359", "help@sunrise", "12 Ballards Lane", "N3 2SB"]:
        assert identifying not in suggestion
    assert "[name removed]" in suggestion
    assert "[phone number removed]" in suggestion
    assert "[email address removed]" in suggestion
    assert "[address removed]" in suggestion and "[postcode removed]" in suggestion
    # The complaint itself is untouched, and the suggestion passes the substance check.
    assert "was rude to her twice" in suggestion and "late again" in suggestion
    assert substance_kept(original=STORY, edited=suggestion)


def test_mobile_and_international_numbers_are_found():
    text = "Call me on 07700 900123 or +44 7700 900456."
    suggestion = deidentified_suggestion(text=text)
    assert "900123" not in suggestion and "900456" not in suggestion


def test_a_moderator_may_remove_a_name_the_helper_missed():
    original = "Our carer Bernadette was always cheerful but often late."
    assert substance_kept(
        original=original, edited="Our carer [name removed] was always cheerful but often late."
    )


def test_removing_or_softening_criticism_is_not_de_identification():
    original = "The carers were rude and late every single day."
    assert not substance_kept(original=original, edited="The carers were late some days.")
    assert not substance_kept(
        original=original, edited="The carers were [name removed] every single day."
    )
    assert not substance_kept(original=original, edited="The carers were lovely.")
    assert not substance_kept(original=original, edited="")
    # Punctuation and capitals may be tidied.
    assert substance_kept(
        original=original, edited="the carers were rude, and late, every single day"
    )
