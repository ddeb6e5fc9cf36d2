"""The JSON Schema of topology.yaml, and structural validation against it.

The schema checks the lab's own structure (sections, node kinds, networks, DNS, PKI). Exchange
objects (receive/send connectors, accepted domains, mailboxes, EXO connectors) are open objects
here: their own ``from_mapping`` validates them with Exchange's property names, so the error
lists the properties Exchange has. ``lab schema`` prints this schema; ``docs/topology.schema.json``
is the published copy (a test keeps it in sync).
"""
from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from lab.core.errors import ConfigError, ConfigErrors

from .source import Source

NODE_KINDS = ("dns", "exchange", "eop", "client", "device", "firewall")
EXCHANGE_VERSIONS = (2010, 2013, 2016, 2019)
RECORD_TYPES = ("A", "MX", "CNAME", "TXT", "PTR", "NS")
KEY_TYPES = ("ec", "rsa")

_name = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}
_ip = {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,3}){3}$"}
_cidr = {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$"}
_ip_or_list = {"oneOf": [_ip, {"type": "array", "items": _ip, "minItems": 1}]}
_exchange_object = {
    "type": "object",
    "description": "An Exchange object with Exchange's own property names (as Get-*/Set-* show them).",
}
_exchange_list = {"type": "array", "items": _exchange_object}
_date = {"type": "string", "description": "ISO 8601 date or date-time, e.g. 2026-01-01 or 2026-11-23T09:00:00+00:00"}

_probe = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "from", "to", "via", "expect"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "from": {"type": "string", "description": "a mailbox address, or a node (device, client, any host)"},
        "host": {"type": "string", "description": "the node the client connects from (default: a node sender "
                                                  "itself, a mailbox's settings.outside_host)"},
        "mail_from": {"type": "string", "description": "the envelope sender (default: the mailbox, or node@<its org's domain>)"},
        "to": {"type": "string", "description": "the recipient address"},
        "via": {
            "type": "object",
            "additionalProperties": False,
            "required": ["server"],
            "description": "the entry point",
            "properties": {
                "server": {"type": "string", "description": "a server node, a host name or a virtual IP"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "tls": {"type": "boolean", "description": "STARTTLS first"},
                "auth": {"oneOf": [
                    {"type": "string", "description": "mailbox (the sender's credentials) or a mailbox address"},
                    {"type": "object", "additionalProperties": False, "required": ["user", "password"],
                     "properties": {"user": {"type": "string"}, "password": {"type": "string"}}}]},
                "certificate": {"type": "string", "description": "a pki.certificates name the client presents"},
            },
        },
        "advance": {"type": ["string", "integer"], "description": "lab time to let pass before looking (45m, 4h, 2d)"},
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "description": "exactly one expected outcome",
            "properties": {
                "delivered": {"type": "string", "description": "the mailbox it lands in"},
                "rejected": {"type": "string", "description": "the SMTP reply, a prefix (550 5.7.54)"},
                "failed": {"type": "string", "description": "the network failure (NoRoute, Timeout, Refused, "
                                                            "StartTlsNotOffered)"},
                "queued": {"type": "string", "description": "the queue's LastError, a prefix"},
                "bounced": {"type": "string", "description": "the NDR's diagnostic, a prefix"},
            },
        },
    },
}

_node = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"enum": list(NODE_KINDS), "description": "What the host is."},
        "description": {"type": "string"},
        "interfaces": {
            "type": "object",
            "description": "network name -> virtual IPv4 address (or a list of them)",
            "additionalProperties": _ip_or_list,
        },
        "gateway": {"type": "string", "description": "the firewall node a private host reaches other networks through"},
        "fqdn": {"type": "string"},
        "certificates": {"type": "array", "items": {"type": "string"}, "description": "names from pki.certificates"},
        "org": {"type": "string", "description": "exchange: the organization (organizations.<name>) the server belongs to"},
        "version": {"enum": list(EXCHANGE_VERSIONS), "description": "exchange: Exchange Server version"},
        "build": {"type": "string", "description": "exchange: build number shown in Received headers, e.g. 15.1.2507.37"},
        "receive_connectors": {**_exchange_list, "description": "exchange: changes to and additions to the version's default receive connectors"},
        "nat": {
            "type": "array",
            "description": "firewall: publishing (inbound) and masquerade (outbound) rules",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["publish", "masquerade"]},
                    "name": {"type": "string"},
                    "external": {"type": "string", "description": "publish: IP:port; masquerade: IP"},
                    "internal": {"type": "string", "description": "publish: IP:port of the published host"},
                    "from": {"type": "string", "description": "masquerade: the private network"},
                },
            },
        },
        "firewall": {
            "type": "array",
            "description": "firewall: rules evaluated in order, first match wins",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["action"],
                "properties": {
                    "action": {"enum": ["allow", "deny"]},
                    "name": {"type": "string"},
                    "from": {"type": "string", "description": "CIDR or any"},
                    "to": {"type": "string", "description": "CIDR or any"},
                    "ports": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}},
                },
            },
        },
        "firewall_default": {"enum": ["allow", "deny"]},
        "endpoints": {
            "type": "object",
            "description": "eop: which of its addresses serves the MX endpoint and smtp.office365.com",
            "additionalProperties": False,
            "properties": {"mx": _ip, "submission": _ip},
        },
        "frontend_host": {"type": "string", "description": "eop: the front-end server name EOP shows in its banner"},
        "banned_ips": {"type": "array", "items": _ip, "description": "eop: sending IPs on EOP's block list"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://hybrid-mail-lab.invalid/topology.schema.json",
    "title": "Hybrid mail lab topology",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "topology"],
    "properties": {
        "name": _name,
        "description": {"type": "string"},
        "settings": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "clock": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"start": _date},
                },
                "loopback_base": {**_cidr, "description": "loopback block the hosts' addresses come from (inside 127.0.0.0/8)"},
                "ports": {
                    "type": "object",
                    "description": "well-known port -> port used on the loopback addresses",
                    "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 65535},
                },
                "outside_host": {"type": "string", "description": "the node a connection from outside the lab (127.0.0.1) is attributed to"},
                "key_type": {"enum": list(KEY_TYPES)},
                "recipient_validation": {"type": "boolean"},
            },
        },
        "topology": {
            "type": "object",
            "additionalProperties": False,
            "required": ["networks", "nodes"],
            "properties": {
                "defaults": {"type": "object", "description": "properties every node starts with"},
                "kinds": {
                    "type": "object",
                    "description": "kind -> properties every node of that kind starts with",
                    "propertyNames": {"enum": list(NODE_KINDS)},
                    "additionalProperties": {"type": "object"},
                },
                "networks": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["kind", "cidrs"],
                        "properties": {
                            "kind": {"enum": ["public", "private"]},
                            "cidrs": {"type": "array", "items": _cidr, "minItems": 1},
                            "description": {"type": "string"},
                        },
                    },
                },
                "nodes": {"type": "object", "minProperties": 1, "additionalProperties": _node},
            },
        },
        "dns": {
            "type": "object",
            "additionalProperties": False,
            "required": ["server", "zones"],
            "properties": {
                "server": {"type": "string", "description": "the dns node that serves the zones"},
                "zones": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "ttl": {"type": "integer", "minimum": 0},
                            "records": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["name", "type", "value"],
                                    "properties": {
                                        "name": {"type": "string", "description": "@ for the zone apex, else relative or absolute (ending in .)"},
                                        "type": {"enum": list(RECORD_TYPES)},
                                        "value": {"type": ["string", "integer"]},
                                        "preference": {"type": "integer", "minimum": 0, "maximum": 65535},
                                        "ttl": {"type": "integer", "minimum": 0},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "pki": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "authorities": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "kind", "common_name"],
                        "properties": {
                            "name": _name,
                            "kind": {"enum": ["root", "intermediate"]},
                            "issuer": {"type": "string"},
                            "common_name": {"type": "string"},
                            "organization": {"type": "string"},
                            "country": {"type": "string", "minLength": 2, "maxLength": 2},
                            "trusted_by": {"type": "array", "items": {"type": "string"}, "description": "internet and/or organization names"},
                            "key_type": {"enum": list(KEY_TYPES)},
                            "valid_from": _date,
                            "valid_days": {"type": "integer", "minimum": 1},
                        },
                    },
                },
                "certificates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "issuer", "common_name"],
                        "properties": {
                            "name": _name,
                            "issuer": {"type": "string", "description": "an authority name, or 'self' for self-signed"},
                            "common_name": {"type": "string"},
                            "sans": {"type": "array", "items": {"type": "string"}},
                            "organization": {"type": "string"},
                            "key_type": {"enum": list(KEY_TYPES)},
                            "valid_from": _date,
                            "valid_days": {"type": "integer", "minimum": 1},
                            "services": {"type": "array", "items": {"enum": ["SMTP", "IIS", "IMAP", "POP", "None"]}},
                        },
                    },
                },
            },
        },
        "organizations": {
            "type": "object",
            "description": "on-premises Exchange organizations",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "accepted_domains": _exchange_list,
                    "mailboxes": _exchange_list,
                    "remote_mailboxes": _exchange_list,
                    "send_connectors": _exchange_list,
                },
            },
        },
        "tenants": {
            "type": "object",
            "description": "Exchange Online tenants behind EOP",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["initial_domain", "eop"],
                "properties": {
                    "initial_domain": {"type": "string"},
                    "eop": {"type": "string", "description": "the eop node"},
                    "hybrid_organization": {"type": "string"},
                    "accepted_domains": _exchange_list,
                    "mailboxes": _exchange_list,
                    "mail_users": _exchange_list,
                    "inbound_connectors": _exchange_list,
                    "outbound_connectors": _exchange_list,
                },
            },
        },
        "probes": {"type": "array", "description": "named mail flows and their expected outcome (`lab check`)",
                   "items": _probe},
    },
}


def schema_json() -> str:
    """The published JSON Schema text."""
    return json.dumps(SCHEMA, indent=2, sort_keys=False) + "\n"


@cache
def _validator():
    from jsonschema import Draft202012Validator  # noqa: PLC0415 (heavy: only when a file is checked)

    return Draft202012Validator(SCHEMA)


def fingerprint(text: str) -> str:
    """What a structural check of ``text`` depends on: the text and this schema."""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(schema_json().encode("utf-8"))
    return digest.hexdigest()


def validate_structure(src: Source) -> None:
    """Check the document against the schema; raise every problem at once, each with file:line."""
    errors: list[ConfigError] = []
    for err in sorted(_validator().iter_errors(src.data), key=lambda e: [str(p) for p in e.absolute_path]):
        errors.append(_to_config_error(src, err))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def _to_config_error(src: Source, err) -> ConfigError:
    path = tuple(err.absolute_path)
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        key = extra[0] if extra else "?"
        return src.error(path + (key,), f"unknown key {key!r}", allowed or None)
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return src.error(path, f"missing required key {missing!r}")
    if v == "enum":
        return src.error(path, f"{err.instance!r} is not allowed", [str(x) for x in err.validator_value])
    if v == "propertyNames":
        return src.error(path, f"{err.instance!r} is not an allowed name here")
    if v == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return src.error(path, f"expected {_article(want)}, got {_describe(err.instance)}")
    if v == "pattern":
        return src.error(path, f"{err.instance!r} is not valid here (expected the form {err.validator_value})")
    if v == "oneOf" and err.schema is _ip_or_list or err.schema == _ip_or_list:
        return src.error(path, f"{err.instance!r} is not an IPv4 address or a list of them")
    if v in ("minItems", "minProperties"):
        return src.error(path, "must not be empty")
    if v in ("minimum", "maximum", "minLength", "maxLength"):
        return src.error(path, f"{err.instance!r} is out of range ({v} {err.validator_value})")
    return src.error(path, err.message)


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a text", "integer": "a whole number", "boolean": "true or false"}
    return names.get(word, word)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if value is None:
        return "nothing"
    return repr(value)
