from tests.checkins.fixtures import clock, sign_in

__all__ = ["clock", "sign_in"]
