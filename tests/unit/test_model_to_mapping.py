"""exchange.model.to_mapping / dump give what dump of every field gave (plain values passed as they are)."""
from __future__ import annotations

from typing import Any

from lab.core.exchange import model as M
from lab.core.exchange.connectors import ExtendedRight, ReceiveConnector, default_receive_connectors
from lab.core.exchange.model import AcceptedDomain, ExchangeServer, Mailbox, Organization


def _dump(value: Any) -> Any:  # (dump as it was: every value asked for to_mapping, frozenset, tuple)
    if hasattr(value, "to_mapping"):
        return value.to_mapping()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


class _Text(str):
    def to_mapping(self) -> str:
        return "mapped:" + self


def _same(a: Any, b: Any) -> None:
    assert a == b and type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        for x, y in zip(a, b):
            _same(x, y)


def test_to_mapping_is_dump_of_every_field() -> None:
    server = ExchangeServer("EX01", "ex01.contoso.com", 2016, "15.1.2507.37")
    objects: list[Any] = [server, *default_receive_connectors(server),
                          ReceiveConnector(name=_Text("odd"), server="EX01", comment=_Text("c"),
                                           extended_rights=(ExtendedRight("u", ("ms-Exch-SMTP-Submit",)),),
                                           permission_groups=(_Text("None"), "x"), max_message_size=1.5),
                          AcceptedDomain("contoso.com"), Mailbox("a", "a@contoso.com", ("a@contoso.com",)),
                          Organization("org", (AcceptedDomain("contoso.com"),), (), (server,), True)]
    for obj in objects:
        want = {ps: _dump(getattr(obj, name)) for ps, name in M._ps_fields_of(type(obj))}
        _same(M.to_mapping(obj), want)
        for name in vars(obj):
            _same(M.dump(getattr(obj, name)), _dump(getattr(obj, name)))
    _same(M.dump(frozenset({"b", "a"})), ["a", "b"])
    _same(M.dump((_Text("x"), 1, None, True, ("y", _Text("z")))), _dump((_Text("x"), 1, None, True, ("y", _Text("z")))))
