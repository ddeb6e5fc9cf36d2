"""The Received header is written from the TLS version and cipher and the date text alone: two
TLS sessions that negotiated the same read the same, a different cipher or instant reads otherwise."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lab.core.exchange.headers import TlsFacts, received_header

NOW = datetime(2026, 11, 23, 9, 5, 7, tzinfo=timezone.utc)
HOSTS = dict(helo="mail.fabrikam.com", client_ip="203.0.113.25", fqdn="ex01.contoso.com", server_ip="192.168.1.10",
             build="15.1.2507.37")


def test_received_headers_as_exchange_writes_them():
    assert received_header(**HOSTS, version=2016, tls=None, frontend=True, now=NOW) == (
        "Received: from mail.fabrikam.com (203.0.113.25) by ex01.contoso.com\r\n (192.168.1.10) with Microsoft SMTP "
        "Server id 15.1.2507.37 via Frontend\r\n Transport; Mon, 23 Nov 2026 09:05:07 +0000\r\n")
    tls = TlsFacts("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
    assert received_header(**HOSTS, version=2016, tls=tls, frontend=False, now=NOW) == (
        "Received: from mail.fabrikam.com (203.0.113.25) by ex01.contoso.com\r\n (192.168.1.10) with Microsoft SMTP "
        "Server (version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.37; Mon, 23 Nov\r\n"
        " 2026 09:05:07 +0000\r\n")
    assert received_header(**HOSTS, version=2013, tls=tls, frontend=False, now=NOW) == (
        "Received: from mail.fabrikam.com (203.0.113.25) by ex01.contoso.com\r\n (192.168.1.10) with Microsoft SMTP "
        "Server (TLS) id 15.1.2507.37; Mon, 23 Nov\r\n 2026 09:05:07 +0000\r\n")


def test_what_the_header_is_written_from():
    def header(tls, now=NOW, version=2019):
        return received_header(**HOSTS, version=version, tls=tls, frontend=False, now=now)

    one = TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", ("a.example",), object())
    same = TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384")  # other peer: the header does not name it
    assert header(one) == header(same) and "TLS_AES_256_GCM_SHA384" in header(one)
    other = header(TlsFacts("TLSv1.3", "TLS_AES_128_GCM_SHA256"))
    assert other != header(one) and "TLS_AES_128_GCM_SHA256" in other
    assert "version=TLS1_2" in header(TlsFacts("TLSv1.2", "TLS_AES_256_GCM_SHA384"))
    assert header(None) != header(one) and "version=" not in header(None)
    pacific = NOW.astimezone(timezone(timedelta(hours=-8)))  # the same instant, read in another zone
    assert header(one, pacific) != header(one) and "01:05:07 -0800" in header(one, pacific).replace("\r\n ", " ")
    assert header(one, NOW.replace(tzinfo=None)) == header(one)  # a naive time is UTC
