"""The lab's own texts: words of the scenario runner and of lab-only cmdlets (no product says them).

Plain strings are runner/report words; :class:`~lab.core.catalogue.Message` entries are lab
cmdlet messages (``Add-LabPublishingRule`` ...), marked ``source="lab"``.
"""
from __future__ import annotations

from lab.core.catalogue import Message

# -- scenario reports ------------------------------------------------------------------------------
EXPECTED = "expected"
GOT = "got"
TRACE = "message trace:"
STEP_ERROR = "step failed to run:"
OUTSIDE = "outside the lab"
PAUSE = "[Enter] run this step, [c] continue without pausing, [q] quit"
EXERCISE_READY = ("The lab is running and broken as the article describes. Your goal:\n  {goal}\n\n"
                  "Work in it from another terminal:\n  lab shell --state {state}\n"
                  "Check your work:\n  lab scenario grade {name} --state {state}\n"
                  "Endpoints (telnet, swaks, dig): {state}/endpoints.json\nCtrl-C stops the lab.")
GRADE_PASS = "PASS: the scenario's final expectations hold in your lab."
GRADE_FAIL = "NOT YET: {count} expectation(s) still fail."
GRADE_WORKAROUND = ("This is the article's workaround, not its fix: {gives_up}\n"
                    "The scenario asks for the proper fix.")
NO_EXERCISE = "no exercise of a scenario is running with state dir {state} (start one with `lab scenario run NAME --exercise --state {state}`)"
EXERCISE_OTHER = "the exercise running with state dir {state} is {running!r}, not {name!r}"
UNKNOWN_SCENARIO = "no scenario {name!r}"
UNKNOWN_DRIVER = "unknown driver {name!r} ({names})"

# -- lab network cmdlets -------------------------------------------------------------------------
PUBLISHING_RULE_EXISTS = Message("The firewall {firewall} already has a rule named '{name}'.", source="lab")
PUBLISHING_RULE_MISSING = Message("The firewall {firewall} has no rule named '{name}'.", source="lab")
NOT_A_FIREWALL = Message("'{name}' is not a firewall of this lab. Firewalls: {names}.", source="lab")
BAD_ENDPOINT = Message("'{value}' is not an address:port endpoint (for example 100.100.100.254:25).", source="lab")

# -- send connector input (topology YAML, Set-/New-SendConnector) --------------------------------
SEND_CONNECTOR_UNKNOWN_PROPERTY = Message("unknown send connector property {key!r}", source="lab")
SEND_CONNECTOR_PROPERTY_REQUIRED = Message("{name} is required", source="lab")
SEND_CONNECTOR_EMPTY_NAME = Message("Name must not be empty", source="lab")
SEND_CONNECTOR_NO_ADDRESS_SPACE = Message("AddressSpaces must name at least one address space", source="lab")
SEND_CONNECTOR_ADDRESS_SPACE_TYPE = Message(
    "The address space type '{kind}' is not supported by the lab.", source="lab")

# -- text files the lab reads (.ps1 scripts, collector JSON) --------------------------------------
TEXT_FILE_UNREADABLE = Message("cannot read the file: {reason}", source="lab")
TEXT_FILE_NOT_TEXT = Message("not UTF-8 or UTF-16 text: {reason}", source="lab")

# -- the lab's own failures ------------------------------------------------------------------------
INTERNAL_ERROR = Message(
    "The lab failed internally ({kind}) while running this line; the traceback is in the lab's log. "
    "This is a fault of the lab, not an error of the product.", source="lab")

# -- certificates ----------------------------------------------------------------------------------
CERTIFICATES_BY_REQUEST_ONLY = Message(
    "The lab creates certificates through requests: use -GenerateRequest.", source="lab")

# -- the running lab -------------------------------------------------------------------------------
NO_LAB_RUNNING = Message("no lab is running with state dir {state} (start one with `lab up`)", source="lab")
LAB_GONE = Message("the lab of state dir {state} is no longer running (start it with `lab up`)", source="lab")
