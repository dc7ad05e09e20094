"""Every error message the client API can answer, as the English template the service writes.

The services raise English sentences (``Invalid(f"limit must be from 1 to {maximum}")``); the API's
error handlers give them back in the client's language (client_api/errors.py). Each sentence is
listed here once, with ``%(name)s`` where the service puts a value, so the catalog check finds it and
service/locales/fr/LC_MESSAGES/messages.po holds its French (tests/client_api/test_error_locale.py
fails on a client-facing sentence that is missing here or there).
"""

from __future__ import annotations


def N_(message: str) -> str:  # the gettext convention for "translate later"
    return message


ERROR_MESSAGES = [
    # client_api
    N_("missing bearer access token"),
    N_("not found"),
    N_("request refused"),
    N_("this conflicts with data that already exists"),
    N_("the service is busy; please try again in a moment"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("the value sent"),
    N_("Value error, %(error)s"),
    # service.security
    N_("email or password is incorrect"),
    N_("your care has not ended: sign in to use Tandem"),
    N_("refresh token is invalid or expired; sign in again"),
    N_("invalid or expired access token"),
    N_("too many attempts; try again later"),
    N_("password must be at least %(minimum)s characters long"),
    N_("password must be at most %(maximum)s characters long"),
    N_("password is too common or too easy to guess; try a longer phrase of unrelated words"),
    # service.onboarding
    N_("this invitation code is not valid; ask your clinic for a new one"),
    N_("this password reset link is invalid, used or expired; ask for a new one"),
    N_("the current password is incorrect"),
    N_("an account with this email already exists"),
    N_("consent version %(sent)s is not the current one (%(current)s); read and accept it again"),
    N_("no consent text version %(version)s"),
    N_("locale must be one of %(locales)s"),
    N_("country must be an ISO 3166 two-letter code, got %(value)s"),
    N_("unknown time zone %(value)s; use an IANA name such as Europe/Paris"),
    N_("unknown time zone %(value)s"),
    # service.kit: input hygiene, paging, idempotency, moments
    N_("%(field)s contains characters that are not valid Unicode"),
    N_("%(field)s contains control characters"),
    N_("%(field)s must be a single line"),
    N_("%(field)s must be between %(earliest)s and %(latest)s"),
    N_("%(field)s is nested too deeply"),
    N_("%(field)s must be a finite number"),
    N_("body must be a finite number where a number is expected (no NaN or Infinity)"),
    N_("query parameter %(name)s is too long"),
    N_("query parameter %(name)s must be an id"),
    N_("from must be on or before to"),
    N_("limit must be from 1 to %(maximum)s"),
    N_("cursor is not one this API gave out; start again without it"),
    N_("Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice)"),
    N_("this Idempotency-Key was already used for a different request; use a new key"),
    N_("%(field)s must include a UTC offset, for example 2026-03-01T08:30:00+01:00"),
    N_("%(field)s is in the future; it may be at most 5 minutes ahead of the server's clock"),
    N_("%(field)s is more than 7 days ago; it can be at most 7 days in the past"),
    N_("%(field)s is before the account was activated"),
    N_("text contains characters that are not valid Unicode"),
    N_("text contains control characters"),
    N_("text must be a single line"),
    N_("dates are written YYYY-MM-DD"),
    N_("dates must be between %(earliest)s and %(latest)s"),
    N_("must include a UTC offset"),
    N_("moments must be between %(earliest)s and %(latest)s"),
    # service.checkins
    N_("note must be at most %(maximum)s characters; it has %(count)s"),
    N_("no such check-in"),
    N_("give either days or from/to, not both"),
    N_("a trend covers at most %(maximum)s days"),
    N_("days must be from 1 to %(maximum)s"),
    N_("unknown tag %(tags)s; tags are one of: %(known)s"),
    N_("a trend runs over calendar dates, not times"),
    N_("the start of a trend must be on or before its end"),
    N_("each trend value needs the calendar date it belongs to"),
    N_("trend values must be finite numbers"),
    N_("sleep_hours must be a number of hours from 0 to 24"),
    N_("tags must be a list of tag codes (strings)"),
    # service.measures
    N_("no such response"),
    N_("unknown instrument %(code)s"),
    N_("%(instrument)s answers must be a list of whole numbers"),
    N_("%(instrument)s has %(expected)s items; got %(count)s"),
    N_(
        "%(instrument)s has %(expected)s items; got %(count)s "
        "(an answer to the difficulty question may follow as answer %(next)s)"
    ),
    N_("%(instrument)s item %(item)s"),
    N_("%(instrument)s difficulty question"),
    N_("%(number)s answer"),
    N_("%(number)s answers"),
    N_("%(where)s: the answer must be a whole number from %(lowest)s to %(highest)s"),
    N_("%(where)s: the answer must be from %(lowest)s to %(highest)s; got %(answer)s"),
    N_(
        "%(instrument)s item %(item)s is asked only when item %(condition)s is %(expected)s; "
        "item %(condition2)s was %(given)s, so item %(item2)s must be %(lowest)s"
    ),
    # service.safety_plan
    N_("unknown safety plan section %(code)s; use one of %(codes)s"),
    N_("the section %(code)s is given twice"),
    N_("a section holds at most 20 items"),
    N_("an item must be at most 500 characters"),
    N_("an item must not contain control characters"),
    # service.reminders
    N_("give both quiet_start and quiet_end, or neither"),
    N_("choose at least one time for the reminders"),
    N_("choose at least one day for the reminders"),
    N_("endpoint must be an https URL of a push service"),
    N_("no such push subscription"),
    N_("at most %(maximum)s devices can receive reminders; remove one first"),
    N_("must be base64url"),
    N_("has the wrong length for a Web Push key"),
    # email addresses (email-validator's reason stays in English: it quotes the address's parts)
    N_("value is not a valid email address: %(reason)s"),
]

# Pydantic's own messages for malformed input (RequestValidationError), by error type. The English
# answer is Pydantic's text; these are the sentences for the other languages, with Pydantic's
# context values as placeholders. A type missing here keeps Pydantic's English text.
VALIDATION_MESSAGES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "json_invalid": N_("Invalid JSON: %(error)s"),
    "json_type": N_("JSON input should be string, bytes or bytearray"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be an object"),
    "list_type": N_("Input should be a valid list"),
    "string_type": N_("Input should be a valid string"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "uuid_type": N_("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": N_("Input should be a valid UUID"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date"),
    "time_type": N_("Input should be a valid time"),
    "time_parsing": N_("Input should be in a valid time format"),
    "timezone_aware": N_("Input should have timezone info"),
    "url_parsing": N_("Input should be a valid URL"),
    "url_scheme": N_("URL scheme should be %(expected_schemes)s"),
    "url_type": N_("URL input should be a string or URL"),
}

# Length and count messages depend on the number: singular and plural forms (ngettext).
COUNTED_MESSAGES = {
    "string_too_short": (
        N_("String should have at least %(min_length)s character"),
        N_("String should have at least %(min_length)s characters"),
        "min_length",
    ),
    "string_too_long": (
        N_("String should have at most %(max_length)s character"),
        N_("String should have at most %(max_length)s characters"),
        "max_length",
    ),
    "too_short": (
        N_("The list should have at least %(min_length)s item after validation, not %(actual_length)s"),
        N_("The list should have at least %(min_length)s items after validation, not %(actual_length)s"),
        "min_length",
    ),
    "too_long": (
        N_("The list should have at most %(max_length)s item after validation, not %(actual_length)s"),
        N_("The list should have at most %(max_length)s items after validation, not %(actual_length)s"),
        "max_length",
    ),
}
