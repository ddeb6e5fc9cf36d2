"""`lab rehearse` of the articles' breaking changes lists exactly the flows that break, with the real replies."""
from __future__ import annotations

from lab.probes.diff import diff_worlds
from lab.probes.rehearse import rehearse, script_lines

NO_MX_AT_XUTONGLIN = "451 4.4.0 DNS query failed. The error was: DNS query failed with error InfoNoRecords"
NOT_AUTHENTICATED = "530 5.7.1 Client was not authenticated"
TLS_CERT_GONE = "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found."
STARTTLS_REQUIRED = "450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail]"


def changes(loaded, drivers, script: str, server: str | None = None):
    result = rehearse(loaded.world, script_lines(script), start=loaded.start, pki=loaded.pki, server=server)
    assert result.failed is None, result.failed
    return diff_worlds(loaded.world, result.world, drivers)


def table(diff):
    return {c.flow.id: (c.kind, c.after.kind, c.after.where, c.after.detail) for c in diff.changes}


def test_removing_xutonglins_mx_breaks_every_flow_to_allen_and_nothing_else(loaded, drivers):
    diff = changes(loaded, drivers, 'Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name "@" -RRType MX -Force')
    queued = {f"{s}>allen@xutonglin.com@{e}": ("broke", "queued", node, NO_MX_AT_XUTONGLIN) for s, e, node in [
        ("administrator@office26.com", "mail1:587", "mail1"), ("erp@office26.com", "mail1:587", "mail1"),
        ("sales@office26.com", "mail1:587", "mail1"), ("contoso@contoso.com", "contoso-ex:587", "contoso-ex"),
        ("partner@fabrikam.com", "fabrikam-ex:587", "fabrikam-ex"),
        ("someone@fabrikam.com", "fabrikam-ex:587", "fabrikam-ex"), ("user01@ixmsoft.com", "ex01:587", "ex01")]}
    eop = {f"{s}>allen@xutonglin.com@ixmsoft:submission": ("broke", "queued", "eop", "450 4.4.312 DNS query failed")
           for s in ("user02@ixmsoft.com", "user20@ixmsoft.com")}
    direct = {f"{c}>allen@xutonglin.com@mx": ("broke", "failed", "xutonglin.com", "NoSuchHost")
              for c in ("internet-client", "office26-pc")}
    assert table(diff) == {**queued, **eop, **direct}
    assert all(c.before.kind == "delivered" and c.before.where == "allen@xutonglin.com" for c in diff.changes)


def test_removing_anonymous_users_from_xutonglins_default_connector(loaded, drivers):
    diff = changes(loaded, drivers, 'Set-ReceiveConnector "Default XUTONGLIN-EX" '
                                    '-PermissionGroups ExchangeUsers,ExchangeServers,ExchangeLegacyServers',
                   server="xutonglin-ex")
    broke = {f"{s}>allen@xutonglin.com@{e}": ("broke", "bounced", where, NOT_AUTHENTICATED) for s, e, where in [
        ("administrator@office26.com", "mail1:587", "MAIL1"), ("erp@office26.com", "mail1:587", "MAIL1"),
        ("sales@office26.com", "mail1:587", "MAIL1"), ("contoso@contoso.com", "contoso-ex:587", "CONTOSO-EX"),
        ("partner@fabrikam.com", "fabrikam-ex:587", "FABRIKAM-EX"),
        ("someone@fabrikam.com", "fabrikam-ex:587", "FABRIKAM-EX"), ("user01@ixmsoft.com", "ex01:587", "EX01"),
        ("user02@ixmsoft.com", "ixmsoft:submission", "user02@ixmsoft.com"),
        ("user20@ixmsoft.com", "ixmsoft:submission", "user20@ixmsoft.com")]}
    broke.update({f"{c}>allen@xutonglin.com@mx": ("broke", "rejected", "mail.xutonglin.com", NOT_AUTHENTICATED)
                  for c in ("internet-client", "office26-pc")})
    # allen's own anonymous submission on port 25 was refused before (relay) and still is, with another reply
    changed = {f"allen@xutonglin.com>{r}@xutonglin-ex:25": ("changed", "rejected", "192.168.8.10", NOT_AUTHENTICATED)
               for r in ("administrator@office26.com", "contoso@contoso.com", "someone@fabrikam.com",
                         "user01@ixmsoft.com", "user02@ixmsoft.com", "user02@ixmsoft.mail.onmicrosoft.com")}
    assert table(diff) == {**broke, **changed}
    assert {c.before.detail for c in diff.changes if c.kind == "changed"} == {"550 5.7.1 Unable to relay"}


CERT_SWAP = """\
# ex01's public certificate renewed by another CA; TlsCertificateName still names the WoSign one
New-ExchangeCertificate -GenerateRequest -SubjectName "c=US, cn=mail.ixmsoft.com" -DomainName mail.ixmsoft.com -RequestFile "C:\\cert\\mail.req"
Submit-LabCertificateRequest -RequestFile "C:\\cert\\mail.req" -CertificateAuthority digicert-cloud -OutFile "C:\\cert\\mail.cer"
Import-ExchangeCertificate -FileName "C:\\cert\\mail.cer" | Enable-ExchangeCertificate -Services SMTP -Force
Get-ExchangeCertificate | Where-Object {$_.Issuer -like "*WoSign*"} | Remove-ExchangeCertificate -Confirm:$false
"""


def test_swapping_ex01s_certificate_without_updating_tls_certificate_name(loaded, drivers):
    diff = changes(loaded, drivers, CERT_SWAP, server="ex01")
    got = table(diff)
    to_cloud = {k: v for k, v in got.items() if k.startswith("user01@ixmsoft.com>")}
    assert to_cloud == {f"user01@ixmsoft.com>{r}@ex01:{p}": ("broke", "queued", "ex01", TLS_CERT_GONE)
                        for r in ("user02@ixmsoft.com", "user02@ixmsoft.mail.onmicrosoft.com") for p in (25, 587)}
    to_onprem = {k: v for k, v in got.items() if k not in to_cloud}
    senders = {"administrator@office26.com>": "mail1:587", "allen@xutonglin.com>": "xutonglin-ex:587",
               "contoso@contoso.com>": "contoso-ex:587", "erp>": "ixmsoft:mx", "erp@office26.com>": "mail1:587",
               "internet-client>": ("ixmsoft:mx", "mx"), "office26-pc>": ("ixmsoft:mx", "mx"),
               "partner@fabrikam.com>": "fabrikam-ex:587", "relay01>": "ixmsoft:mx",
               "sales@office26.com>": "mail1:587", "someone@fabrikam.com>": "fabrikam-ex:587",
               "user02@ixmsoft.com>": "ixmsoft:submission", "user20@ixmsoft.com>": "ixmsoft:submission"}
    expected = {f"{s}user01@ixmsoft.com@{e}" for s, es in senders.items() for e in ((es,) if isinstance(es, str) else es)}
    assert set(to_onprem) == expected
    assert all(kind == "broke" and outcome == "queued" and where == "eop" and detail.startswith(STARTTLS_REQUIRED)
               for kind, outcome, where, detail in to_onprem.values())


def test_a_failing_line_stops_the_rehearsal_with_its_powershell_error(loaded):
    script = ('Set-ReceiveConnector "Default XUTONGLIN-EX" -PermissionGroups Anonymous\n'
              'Remove-DnsServerResourceRecord -ZoneName xutonglin.com -Name "@" -RRType MX -Force\n')
    result = rehearse(loaded.world, script_lines(script), start=loaded.start, server="xutonglin-ex")
    assert result.accepted == ()
    number, line, error = result.failed
    assert number == 1 and line.startswith("Set-ReceiveConnector")
    assert error.startswith("'Anonymous' is not a valid value Valid values are: None, AnonymousUsers")
    assert result.world.zones == loaded.world.zones  # the MX line never ran


def test_the_diff_tells_its_progress_matrix_by_matrix(loaded, drivers):
    result = rehearse(loaded.world, script_lines("Set-ReceiveConnector 'Default Frontend MAIL1' -MaxMessageSize 20MB"),
                      start=loaded.start, pki=loaded.pki)
    seen = []
    diff = diff_worlds(loaded.world, result.world, drivers, progress=lambda *told: seen.append(told))
    before = [done for which, done, _ in seen if which == "before"]
    after = [done for which, done, _ in seen if which == "after"]
    assert [which for which, _, _ in seen] == ["before"] * len(before) + ["after"] * len(after)
    assert before == sorted(before) and after == sorted(after)
    assert before[-1] == after[-1] == diff.evaluated  # every flow counted, in both worlds
    assert {total for _, _, total in seen} == {diff.evaluated}
