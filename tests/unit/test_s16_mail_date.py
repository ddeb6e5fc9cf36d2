"""headers.mail_date: email.utils.format_datetime, remembered per instant and UTC offset."""
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from lab.core.exchange.headers import mail_date


def test_mail_date_is_format_datetime_for_equal_instants_in_other_zones():
    utc = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    plus8 = utc.astimezone(timezone(timedelta(hours=8)))
    minus7 = utc.astimezone(timezone(timedelta(hours=-7)))
    assert utc == plus8 == minus7  # equal instants: a memo keyed on the datetime alone would mix them up
    for when in (utc, plus8, minus7, utc, datetime(2026, 11, 23, 9, 0)):
        assert mail_date(when) == format_datetime(when)
    assert mail_date(plus8).endswith("+0800") and mail_date(minus7).endswith("-0700")
    assert mail_date(datetime(2026, 11, 23, 9, 0)).endswith("-0000")  # naive: format_datetime's -0000
