"""Get/New/Remove-AcceptedDomain and Get-Mailbox (on-premises; Exchange Online when connected)."""
from __future__ import annotations

from lab.console import records as R
from lab.console.cmdlets._common import Errors, changed, exchange, identity_text, matching, register_all
from lab.console.host import ConsoleHost
from lab.console.registry import ANY, Invocation, Param, Registry
from lab.core.catalogue import cmdlets as M
from lab.core.errors import ConfigError
from lab.core.exchange.model import DOMAIN_TYPES, AcceptedDomain
from lab.core.fastpath import evolve


def _org(host: ConsoleHost):
    return host.world.org_of(host.session.server)


def _domains(host: ConsoleHost):
    if host.session.tenant:
        from lab.console.cmdlets.online import tenant_of
        return list(tenant_of(host.world, host.session.tenant).accepted_domains)
    return list(_org(host).organization.accepted_domains)


def get_ad(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    ident = inv.params.get("Identity")
    found = _domains(host)
    if ident is not None:
        text = identity_text(ident)
        found = matching(found, text, lambda d: d.name, lambda d: d.domain_name)
        if not found:
            raise Errors(host).not_found(text, "GetAcceptedDomain",
                                         _org(host).name if not host.session.tenant else None)
    return [R.accepted_domain(d) for d in found]


def new_ad(inv: Invocation) -> R.ExRecord:
    host = inv.console_host
    task = "NewAcceptedDomain"
    name = inv.params["Name"]
    state = _org(host)
    try:
        domain = AcceptedDomain.from_mapping({"Name": name, "DomainName": inv.params["DomainName"],
                                              "DomainType": inv.params.get("DomainType", "Authoritative")}, task)
    except ConfigError as e:
        raise Errors(host).invalid(e, task) from None
    existing = state.organization.accepted_domains
    if any(d.name.lower() == domain.name.lower() or d.domain_name == domain.domain_name for d in existing):
        raise Errors(host).make(M.ACCEPTED_DOMAIN_EXISTS.format(name=name), M.ALREADY_EXISTS_REASON, task, "WriteError")
    new_org = evolve(state.organization, accepted_domains=existing + (domain,))
    if inv.should_process(M.WHATIF_NEW_OBJECT, kind=M.KIND_ACCEPTED_DOMAIN, name=name):
        changed(inv, host, host.world.with_org(evolve(state, organization=new_org)))
    return R.accepted_domain(domain)


def remove_ad(inv: Invocation) -> None:
    host = inv.console_host
    task = "RemoveAcceptedDomain"
    state = _org(host)
    text = identity_text(inv.params["Identity"])
    domain = Errors(host).one(matching(state.organization.accepted_domains, text, lambda d: d.name,
                                       lambda d: d.domain_name), text, task, state.name)
    if domain.default:
        raise Errors(host).make(M.CANNOT_REMOVE_DEFAULT_DOMAIN.text, M.INVALID_OPERATION_REASON, task,
                                "InvalidOperation")
    new_org = evolve(state.organization, accepted_domains=tuple(
        d for d in state.organization.accepted_domains if d is not domain))
    if inv.should_process(M.WHATIF_REMOVE_OBJECT, kind=M.KIND_ACCEPTED_DOMAIN, name=domain.name):
        changed(inv, host, host.world.with_org(evolve(state, organization=new_org)))


def get_mailbox(inv: Invocation) -> list[R.ExRecord]:
    host = inv.console_host
    if host.session.tenant:
        from lab.console.cmdlets.online import tenant_of
        boxes = [(b, None) for b in tenant_of(host.world, host.session.tenant).mailboxes]
    else:
        boxes = [(b, b.server) for b in _org(host).organization.mailboxes]
    ident = inv.params.get("Identity")
    if ident is not None:
        text = identity_text(ident)
        boxes = matching(boxes, text, lambda b: b[0].name, lambda b: b[0].alias,
                         lambda b: b[0].primary_smtp_address)
        if not boxes:
            raise Errors(host).not_found(text, "GetMailbox", None if host.session.tenant else _org(host).name)
    return [R.mailbox(b, s) for b, s in boxes]


def register(registry: Registry, host: ConsoleHost) -> None:
    """Register the accepted-domain and mailbox cmdlets."""
    register_all(registry, host, COMMANDS)


# Parameters declared once (frozen, shared by every console's registry).
_IDENTITY = Param("Identity", ANY, position=0, pipeline=True)
_GET_AD = (_IDENTITY,)
_NEW_AD = (Param("Name", mandatory=True, position=0), Param("DomainName", mandatory=True),
           Param("DomainType", enum=DOMAIN_TYPES))
_REMOVE_AD = (Param("Identity", ANY, position=0, pipeline=True, mandatory=True),)
_GET_MAILBOX = (_IDENTITY, Param("ResultSize"))


#: the module's commands, declared once: every console's registry shares them
COMMANDS = (
    exchange("Get-AcceptedDomain", get_ad, _GET_AD),
    exchange("New-AcceptedDomain", new_ad, _NEW_AD),
    exchange("Remove-AcceptedDomain", remove_ad, _REMOVE_AD),
    exchange("Get-Mailbox", get_mailbox, _GET_MAILBOX),
)
