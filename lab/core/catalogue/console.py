"""PowerShell and Exchange Management Shell texts shown by the lab console.

Wording is Windows PowerShell 5.1 (the shell Exchange 2013-2019 runs in): parser errors come
from ``ParserStrings.resx``, binding errors from ``ParameterBinderStrings.resx``, command
lookup from ``DiscoveryExceptions.resx`` (PowerShell/PowerShell, read in the code index).
Texts with ``{placeholders}`` are filled with :meth:`Message.format`; texts without
placeholders may contain literal braces and are used as ``str(message)``.
"""
from __future__ import annotations

from lab.core.catalogue import Message

_PARSER = "PowerShell ParserStrings.resx"
_BINDER = "PowerShell ParameterBinderStrings.resx"

# --- error record layout ------------------------------------------------------------------
POSITION = Message("At line:{line} char:{column}", source=_PARSER + " TextForPositionMessage")
CATEGORY_INFO = Message("    + CategoryInfo          : {category}: ({target}:{target_type}) [{activity}], {reason}")
CATEGORY_INFO_NO_TARGET = Message("    + CategoryInfo          : {category}: (:) [{activity}], {reason}")
FULLY_QUALIFIED_ERROR_ID = Message("    + FullyQualifiedErrorId : {error_id}")
PS_COMPUTER_NAME = Message("    + PSComputerName        : {computer}")
PARSER_REASON = Message("ParentContainsErrorRecordException")
WARNING = Message("WARNING: {text}")
WHAT_IF = Message("What if: {text}")

# --- parser (ParserError) -------------------------------------------------------------------
UNEXPECTED_TOKEN = Message("Unexpected token '{token}' in expression or statement.", source=_PARSER)
MISSING_END_CURLY_BRACE = Message("Missing closing '}' in statement block or type definition.", source=_PARSER)
INCOMPLETE_HASH_LITERAL = Message(
    "The hash literal was incomplete.", source="Windows PowerShell 5.1 parser (PowerShell 6+ says MissingEndCurlyBrace)"
)
MISSING_END_PARENTHESIS_IN_EXPRESSION = Message("Missing closing ')' in expression.", source=_PARSER)
MISSING_END_PARENTHESIS_IN_SUBEXPRESSION = Message("Missing closing ')' in subexpression.", source=_PARSER)
MISSING_END_SQUARE_BRACKET = Message("Missing ']' after array index expression.", source=_PARSER)
MISSING_END_PARENTHESIS_IN_METHOD_CALL = Message("Missing ')' in method call.", source=_PARSER)
STRING_MISSING_TERMINATOR = Message(
    "The string is missing the terminator: {quote}.", source=_PARSER + " TerminatorExpectedAtEndOfString"
)
MISSING_END_MULTILINE_COMMENT = Message(
    "The terminator '{terminator}' is missing from the multiline comment.", source=_PARSER
)
MISSING_EQUALS_IN_HASH_LITERAL = Message("Missing '=' operator after key in hash literal.", source=_PARSER)
MISSING_KEY_IN_HASH_LITERAL = Message("Missing key before '=' in hash literal.", source=_PARSER)
MISSING_STATEMENT_IN_HASH_LITERAL = Message("Missing statement after '=' in hash literal.", source=_PARSER)
MISSING_EXPRESSION_AFTER_TOKEN = Message("Missing expression after '{token}'.", source=_PARSER)
MISSING_EXPRESSION_AFTER_OPERATOR = Message("Missing expression after unary operator '{operator}'.", source=_PARSER)
EXPECTED_VALUE_EXPRESSION = Message(
    "You must provide a value expression following the '{operator}' operator.", source=_PARSER
)
EXPECTED_EXPRESSION = Message("An expression was expected after '('.", source=_PARSER)
EMPTY_PIPE_ELEMENT = Message("An empty pipe element is not allowed.", source=_PARSER)
EXPRESSIONS_MUST_BE_FIRST_IN_PIPELINE = Message(
    "Expressions are only allowed as the first element of a pipeline.", source=_PARSER
)
SCRIPT_TOO_COMPLICATED = Message("Processing was stopped because the script is too complex.", source=_PARSER)
MISSING_ARGUMENT = Message("Missing argument in parameter list.", source=_PARSER)
MISSING_PROPERTY_NAME = Message("Missing property name after reference operator.", source=_PARSER)
INVALID_LEFT_HAND_SIDE = Message(
    "The assignment expression is not valid. The input to an assignment operator must be an object that is able "
    "to accept assignments, such as a variable or a property.",
    source=_PARSER,
)
SPLATTING_NOT_PERMITTED = Message(
    "The splatting operator '@' cannot be used to reference variables in an expression. '@{name}' can be used "
    "only as an argument to a command. To reference variables in an expression use '${name}'.",
    source=_PARSER,
)
INVALID_VARIABLE_REFERENCE = Message(
    "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} "
    "to delimit the name.",
    source=_PARSER,
)

# --- command discovery and parameter binding --------------------------------------------------
COMMAND_NOT_FOUND = Message(
    "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
    "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
    source="PowerShell DiscoveryExceptions.resx CommandNotFoundException",
)
NAMED_PARAMETER_NOT_FOUND = Message(
    "A parameter cannot be found that matches parameter name '{name}'.", source=_BINDER
)
POSITIONAL_PARAMETER_NOT_FOUND = Message(
    "A positional parameter cannot be found that accepts argument '{argument}'.", source=_BINDER
)
AMBIGUOUS_PARAMETER = Message(
    "Parameter cannot be processed because the parameter name '{name}' is ambiguous. Possible matches include:"
    "{matches}.",
    source=_BINDER,
)
MISSING_ARGUMENT_FOR_PARAMETER = Message(
    "Missing an argument for parameter '{name}'. Specify a parameter of type '{type_name}' and try again.",
    source=_BINDER,
)
MISSING_MANDATORY_PARAMETER = Message(
    "Cannot process command because of one or more missing mandatory parameters:{names}.", source=_BINDER
)
PARAMETER_ALREADY_BOUND = Message(
    "Cannot bind parameter because parameter '{name}' is specified more than once. To provide multiple values to "
    'parameters that can accept multiple values, use the array syntax. For example, "-parameter '
    'value1,value2,value3".',
    source=_BINDER,
)
INPUT_OBJECT_NOT_BOUND = Message(
    "The input object cannot be bound to any parameters for the command either because the command does not take "
    "pipeline input or the input and its properties do not match any of the parameters that take pipeline input.",
    source=_BINDER,
)
ARGUMENT_TRANSFORMATION_ERROR = Message(
    "Cannot process argument transformation on parameter '{name}'. {detail}", source=_BINDER
)
NULL_NOT_ALLOWED = Message("Cannot bind argument to parameter '{name}' because it is null.", source=_BINDER)
EMPTY_STRING_NOT_ALLOWED = Message(
    "Cannot bind argument to parameter '{name}' because it is an empty string.", source=_BINDER
)
VALIDATION_ERROR = Message("Cannot validate argument on parameter '{name}'. {detail}", source=_BINDER)
VALIDATE_SET = Message(
    'The argument "{value}" does not belong to the set "{allowed}" specified by the ValidateSet attribute. '
    "Supply an argument that is in the set and then try the command again.",
    source="PowerShell Metadata.resx ValidateSetFailure",
)

# --- conversions (ExtendedTypeSystem) ---------------------------------------------------------
CANNOT_CONVERT_STRING = Message(
    'Cannot convert value "{value}" to type "{type_name}". Error: "{error}"',
    source="PowerShell ExtendedTypeSystem.resx InvalidCastFromStringToInteger",
)
CANNOT_CONVERT_VALUE = Message(
    'Cannot convert the "{value}" value of type "{value_type}" to type "{type_name}".',
    source="PowerShell ExtendedTypeSystem.resx InvalidCastException",
)
BOOLEAN_ONLY = Message(
    'Cannot convert value "{value_type}" to type "{type_name}". Boolean parameters accept only Boolean values and '
    "numbers, such as $True, $False, 1 or 0.",
    source="PowerShell ExtendedTypeSystem.resx InvalidCastExceptionBoolean",
)
ENUM_NO_MATCH = Message(
    "Unable to match the identifier name {value} to a valid enumerator name. Specify one of the following "
    "enumerator names and try again:\n{names}",
    source=".NET Enum.Parse via PowerShell LanguagePrimitives (EnumCannotParse)",
)
INPUT_STRING_FORMAT = Message("Input string was not in a correct format.", source=".NET FormatException")
METHOD_NOT_FOUND = Message(
    "Method invocation failed because [{type_name}] does not contain a method named '{name}'.", source=_PARSER
)
INVOKE_METHOD_ON_NULL = Message("You cannot call a method on a null-valued expression.", source=_PARSER)
CANNOT_INDEX = Message('Unable to index into an object of type "{type_name}".', source=_PARSER)
NULL_ARRAY = Message("Cannot index into a null array.", source=_PARSER)
OPERATION_NOT_DEFINED = Message("The operation '[{left}] {operator} [{right}]' is not defined.", source=_PARSER)
DIVIDE_BY_ZERO = Message("Attempted to divide by zero.", source=".NET DivideByZeroException")
BAD_REGULAR_EXPRESSION = Message(
    "The regular expression pattern {pattern} is not valid.", source=_PARSER + " InvalidRegularExpression"
)

# --- built-in cmdlets -----------------------------------------------------------------------
TYPE_NOT_FOUND = Message(
    "Cannot find type [{type_name}]: verify that the assembly containing this type is loaded.",
    source="PowerShell NewObjectStrings.resx TypeNotFound",
)
CONSTRUCTOR_OVERLOAD = Message(
    'Cannot find an overload for "{type_name}" and the argument count: "{count}".',
    source="PowerShell ExtendedTypeSystem.resx MethodCountCouldNotFindBest",
)
PLAIN_TEXT_NEEDS_FORCE = Message(
    "The system cannot protect plain text input. To suppress this warning and convert the plain text to a "
    "SecureString, reissue the command specifying the Force parameter. For more information ,type: get-help "
    "ConvertTo-SecureString.",
    source="Windows PowerShell 5.1 SecureStringCommands.resx",
    unconfirmed=True,
    note="from memory of the 5.1 console (the odd ' ,type' spacing is in the product)",
)
NON_INTERACTIVE = Message(
    "PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
    source="PowerShell HostInterfaceExceptionsStrings.resx HostFunctionNotImplemented",
    unconfirmed=True,
    note="shown when the lab host gives no credential prompt",
)

# programming error: a change to the sealed registry of built-in commands
BUILTINS_SEALED = "the built-in commands are shared by every console and cannot be changed"
