"""Go `encoding/json`, as far as Toxiproxy's API shows it to clients.

The real server decodes request bodies with `json.NewDecoder(body).Decode(&v)` and answers bad
input with Go's own error text (`bad request body: unexpected EOF`, `invalid character 'b'
looking for beginning of object key string`, `json: cannot unmarshal string into Go struct
field Proxy.enabled of type bool`). To give the same bodies this module reproduces:

* the decoder: only the first JSON value is read (trailing bytes are ignored), an empty body is
  `EOF`, a cut-off one `unexpected EOF`, and syntax errors use the words of Go's scanner;
* typed decoding into Go-like struct descriptions (`GoStruct`, ...): keys match fields exactly
  first and then case-insensitively, unknown keys are ignored, `null` leaves a value alone, and
  the first type error is reported with the struct name and field path as Go 1.20+ prints them;
* the encoder: Go's HTML-safe string escaping and float32 formatting (`1`, `0.5`, `1e-7`).
"""

from __future__ import annotations

import codecs
import math
import re
import struct
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "BOOL",
    "FLOAT32",
    "INT",
    "INT64",
    "STRING",
    "Float32",
    "GoInterface",
    "GoMap",
    "GoPointer",
    "GoScalar",
    "GoSlice",
    "GoStruct",
    "GoType",
    "JSONDecodeError",
    "decode",
    "float32",
    "marshal",
]

MAX_DEPTH = 10000  # Go's scanner maxNestingDepth


class JSONDecodeError(ValueError):
    """What Go's decoder would return; `str()` is the exact Go error text."""


# ---------------------------------------------------------------------------------------------
# Parse tree of the first JSON value


@dataclass(slots=True)
class JObject:
    items: list[tuple[str, Node]]


@dataclass(slots=True)
class JArray:
    items: list[Node]


@dataclass(slots=True)
class JString:
    value: str


@dataclass(slots=True)
class JNumber:
    literal: str


@dataclass(slots=True)
class JBool:
    value: bool


@dataclass(slots=True)
class JNull:
    pass


Node = JObject | JArray | JString | JNumber | JBool | JNull

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = {
    ord('"'): '"',
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}
_LITERALS: dict[int, tuple[str, Node]] = {
    ord("t"): ("true", JBool(True)),
    ord("f"): ("false", JBool(False)),
    ord("n"): ("null", JNull()),
}


def _quote_char(c: int) -> str:
    """Go's scanner `quoteChar`: the offending byte as a Go rune literal."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    return "'" + _go_quote_rune(chr(c)) + "'"


_GO_RUNE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_GO_RUNE_ESCAPES.update({"\t": "\\t", "\v": "\\v", "\\": "\\\\"})


def _go_quote_rune(ch: str) -> str:
    """The inside of Go's `strconv.Quote` for one rune below U+0100."""
    if ch in _GO_RUNE_ESCAPES:
        return _GO_RUNE_ESCAPES[ch]
    if ch.isprintable():
        return ch
    if ord(ch) < 0x80:
        return f"\\x{ord(ch):02x}"
    return f"\\u{ord(ch):04x}"


def _syntax(c: int, context: str) -> JSONDecodeError:
    return JSONDecodeError(f"invalid character {_quote_char(c)} {context}")


class _Truncated(Exception):
    """The input ended inside a value."""


def _go_replace(err: UnicodeError) -> tuple[str, int]:
    # Go's utf8.DecodeRune turns each invalid byte into one U+FFFD.
    assert isinstance(err, UnicodeDecodeError)
    return "\ufffd", err.start + 1


codecs.register_error("harness-go-replace", _go_replace)


class _Parser:
    """Reads the first JSON value of `data` with the error texts of Go's scanner."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.n = len(data)

    def byte(self, i: int) -> int:
        if i >= self.n:
            raise _Truncated
        return self.data[i]

    def skip_space(self, i: int) -> int:
        data, n = self.data, self.n
        while i < n and data[i] in _SPACE:
            i += 1
        return i

    def parse(self) -> Node:
        i = self.skip_space(0)
        if i >= self.n:
            raise JSONDecodeError("EOF")
        try:
            return self._parse_from(i)
        except _Truncated:
            raise JSONDecodeError("unexpected EOF") from None

    def _parse_from(self, i: int) -> Node:
        # An explicit stack: Go allows 10000 levels, far beyond Python's recursion limit.
        stack: list[JObject | JArray] = []
        keys: list[str] = []
        while True:
            i = self.skip_space(i)
            c = self.byte(i)
            node: Node
            if c == ord("{") or c == ord("["):
                if len(stack) + 1 > MAX_DEPTH:
                    raise _syntax(c, "exceeded max depth")
                i = self.skip_space(i + 1)
                if c == ord("{"):
                    c2 = self.byte(i)
                    if c2 == ord("}"):
                        node, i = JObject([]), i + 1
                    elif c2 != ord('"'):
                        raise _syntax(c2, "looking for beginning of object key string")
                    else:
                        key, i = self.key(i)
                        stack.append(JObject([]))
                        keys.append(key)
                        continue
                else:
                    if self.byte(i) == ord("]"):
                        node, i = JArray([]), i + 1
                    else:
                        stack.append(JArray([]))
                        continue
            else:
                node, i = self.scalar(i, c)
            # A value is complete: attach it and read what follows it.
            while True:
                if not stack:
                    return node
                top = stack[-1]
                i = self.skip_space(i)
                if isinstance(top, JObject):
                    top.items.append((keys.pop(), node))
                    c = self.byte(i)
                    if c == ord(","):
                        i = self.skip_space(i + 1)
                        c2 = self.byte(i)
                        if c2 != ord('"'):
                            raise _syntax(c2, "looking for beginning of object key string")
                        key, i = self.key(i)
                        keys.append(key)
                        break
                    if c != ord("}"):
                        raise _syntax(c, "after object key:value pair")
                else:
                    top.items.append(node)
                    c = self.byte(i)
                    if c == ord(","):
                        i += 1
                        break
                    if c != ord("]"):
                        raise _syntax(c, "after array element")
                node = stack.pop()
                i += 1

    def key(self, i: int) -> tuple[str, int]:
        """An object key at `i` (a '"') and the ':' after it; returns the index after ':'."""
        key, i = self.string(i)
        i = self.skip_space(i)
        c = self.byte(i)
        if c != ord(":"):
            raise _syntax(c, "after object key")
        return key, i + 1

    def scalar(self, i: int, c: int) -> tuple[Node, int]:
        if c == ord('"'):
            s, i = self.string(i)
            return JString(s), i
        if c == ord("-") or c in _DIGITS:
            return self.number(i)
        literal = _LITERALS.get(c)
        if literal is None:
            raise _syntax(c, "looking for beginning of value")
        word, node = literal
        for k in range(1, len(word)):
            got = self.byte(i + k)
            if got != ord(word[k]):
                raise _syntax(got, f"in literal {word} (expecting {_quote_char(ord(word[k]))})")
        return node, i + len(word)

    def number(self, start: int) -> tuple[JNumber, int]:
        data, i = self.data, start
        if data[i] == ord("-"):
            i += 1
            c = self.byte(i)
            if c not in _DIGITS:
                raise _syntax(c, "in numeric literal")
        if data[i] == ord("0"):
            i += 1
        else:
            while i < self.n and data[i] in _DIGITS:
                i += 1
        if i < self.n and data[i] == ord("."):
            i += 1
            c = self.byte(i)
            if c not in _DIGITS:
                raise _syntax(c, "after decimal point in numeric literal")
            while i < self.n and data[i] in _DIGITS:
                i += 1
        if i < self.n and data[i] in b"eE":
            i += 1
            if self.byte(i) in b"+-":
                i += 1
            c = self.byte(i)
            if c not in _DIGITS:
                raise _syntax(c, "in exponent of numeric literal")
            while i < self.n and data[i] in _DIGITS:
                i += 1
        return JNumber(data[start:i].decode("ascii")), i

    def string(self, i: int) -> tuple[str, int]:
        """The string starting at the quote at `i`; returns its value and the index after it."""
        data = self.data
        start = i + 1
        i = start
        simple = True
        while True:
            c = self.byte(i)
            if c == ord('"'):
                break
            if c < 0x20:
                raise _syntax(c, "in string literal")
            if c == ord("\\"):
                simple = False
                i += 1
                e = self.byte(i)
                if e == ord("u"):
                    for k in range(1, 5):
                        h = self.byte(i + k)
                        if h not in _HEX:
                            raise _syntax(h, "in \\u hexadecimal character escape")
                    i += 4
                elif e not in _ESCAPES:
                    raise _syntax(e, "in string escape code")
            elif c >= 0x80:
                simple = False
            i += 1
        raw = data[start:i]
        if simple:
            return raw.decode("ascii"), i + 1
        return _unquote(raw), i + 1


_U4 = re.compile(rb"\\u([0-9a-fA-F]{4})")


def _unquote(raw: bytes) -> str:
    """Go's `unquote` for an already validated string body: escapes, surrogates, bad UTF-8."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        j = raw.find(b"\\", i)
        if j < 0:
            j = n
        if j > i:
            out.append(raw[i:j].decode("utf-8", "harness-go-replace"))
        if j >= n:
            break
        e = raw[j + 1]
        if e != ord("u"):
            out.append(_ESCAPES[e])
            i = j + 2
            continue
        r = int(raw[j + 2 : j + 6], 16)
        i = j + 6
        if 0xD800 <= r < 0xE000:
            m = _U4.match(raw, i)
            r2 = int(m.group(1), 16) if m else -1
            if 0xD800 <= r < 0xDC00 and 0xDC00 <= r2 < 0xE000:
                out.append(chr(0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)))
                i += 6
                continue
            r = 0xFFFD
        out.append(chr(r))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Go types, as far as error messages and decoding need them


class GoType:
    """A Go type: `name` is what `reflect.Type.String()` prints in error messages."""

    @property
    def name(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class GoScalar(GoType):
    type_name: str  # "string", "bool", "int64", "int", "float32"

    @property
    def name(self) -> str:
        return self.type_name


@dataclass(frozen=True)
class GoField:
    json_name: str
    type: GoType


@dataclass(frozen=True)
class GoStruct(GoType):
    """A struct; `short` is `reflect.Type.Name()` (empty for anonymous structs)."""

    type_name: str
    short: str
    fields: tuple[GoField, ...]
    _exact: dict[str, GoField] = field(init=False, repr=False, compare=False, hash=False)
    _folded: dict[str, GoField] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_exact", {f.json_name: f for f in self.fields})
        folded: dict[str, GoField] = {}
        for f in self.fields:
            folded.setdefault(f.json_name.casefold(), f)
        object.__setattr__(self, "_folded", folded)

    @property
    def name(self) -> str:
        return self.type_name

    def lookup(self, key: str) -> GoField | None:
        return self._exact.get(key) or self._folded.get(key.casefold())


@dataclass(frozen=True)
class GoPointer(GoType):
    """`*T`: errors name T (Go dereferences before storing); `null` stores None."""

    elem: GoType

    @property
    def name(self) -> str:
        return "*" + self.elem.name


@dataclass(frozen=True)
class GoSlice(GoType):
    elem: GoType

    @property
    def name(self) -> str:
        return "[]" + self.elem.name


@dataclass(frozen=True)
class GoMap(GoType):
    """`map[string]T`: a JSON object with any keys; values decode into `elem`."""

    elem: GoType

    @property
    def name(self) -> str:
        return "map[string]" + self.elem.name


@dataclass(frozen=True)
class GoInterface(GoType):
    """An interface field holding a pointer to `held`: values decode into `held`."""

    held: GoStruct

    @property
    def name(self) -> str:
        return "interface {}"


STRING = GoScalar("string")
BOOL = GoScalar("bool")
INT64 = GoScalar("int64")
INT = GoScalar("int")
FLOAT32 = GoScalar("float32")

_INT_RE = re.compile(r"-?\d+\Z")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass
class _Context:
    struct: GoStruct | None = None
    fields: tuple[str, ...] = ()


def _type_error(value: str, typ: GoType, ctx: _Context) -> JSONDecodeError:
    if ctx.struct is not None or ctx.fields:
        short = ctx.struct.short if ctx.struct is not None else ""
        where = f"Go struct field {short}.{'.'.join(ctx.fields)}"
    else:
        where = "Go value"
    return JSONDecodeError(f"json: cannot unmarshal {value} into {where} of type {typ.name}")


def _kind(node: Node) -> str:
    if isinstance(node, JObject):
        return "object"
    if isinstance(node, JArray):
        return "array"
    if isinstance(node, JString):
        return "string"
    if isinstance(node, JNumber):
        return "number"
    return "bool"


def _decode_value(node: Node, typ: GoType, ctx: _Context) -> Any:
    """Decode `node` into `typ`; `None` means "leave the Go value as it was"."""
    if isinstance(node, JNull):
        return None
    if isinstance(typ, GoPointer):
        return _decode_value(node, typ.elem, ctx)
    if isinstance(typ, GoInterface):
        typ = typ.held
    if isinstance(typ, GoStruct):
        if not isinstance(node, JObject):
            raise _type_error(_kind(node), typ, ctx)
        return _decode_struct(node, typ, ctx)
    if isinstance(typ, GoMap):
        if not isinstance(node, JObject):
            raise _type_error(_kind(node), typ, ctx)
        items = {key: _decode_value(value, typ.elem, ctx) for key, value in node.items}
        return {key: value for key, value in items.items() if value is not None}
    if isinstance(typ, GoSlice):
        if not isinstance(node, JArray):
            raise _type_error(_kind(node), typ, ctx)
        return [_decode_value(item, typ.elem, ctx) for item in node.items]
    assert isinstance(typ, GoScalar)
    return _decode_scalar(node, typ, ctx)


def _decode_struct(node: JObject, typ: GoStruct, ctx: _Context) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in node.items:
        f = typ.lookup(key)
        if f is None:
            continue  # Go ignores unknown keys
        decoded = _decode_value(value, f.type, _Context(typ, (*ctx.fields, f.json_name)))
        if decoded is not None or isinstance(f.type, GoPointer):
            result[f.json_name] = decoded
    return result


def _decode_scalar(node: Node, typ: GoScalar, ctx: _Context) -> Any:
    if typ is STRING:
        if isinstance(node, JString):
            return node.value
    elif typ is BOOL:
        if isinstance(node, JBool):
            return node.value
    elif isinstance(node, JNumber):
        if typ is FLOAT32:
            value = float32(float(node.literal))
            if math.isinf(value):
                raise _type_error(f"number {node.literal}", typ, ctx)
            return value
        if _INT_RE.match(node.literal):
            number = int(node.literal)
            if _INT64_MIN <= number <= _INT64_MAX:
                return number
        raise _type_error(f"number {node.literal}", typ, ctx)
    raise _type_error(_kind(node), typ, ctx)


def decode(data: bytes, typ: GoType) -> Any:
    """Decode the first JSON value of `data` into `typ` the way Go's `Decoder.Decode` does.

    Structs come back as dicts holding only the fields present in the input (and not null,
    except pointers, which hold None for null); the caller supplies Go's defaults. Raises
    `JSONDecodeError` whose text is Go's error text.
    """
    node = _Parser(data).parse()
    return _decode_value(node, typ, _Context())


# ---------------------------------------------------------------------------------------------
# Encoding


def float32(value: float) -> float:
    """`value` rounded to the nearest float32 (inf when out of range)."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


class Float32(float):
    """A float that `marshal` prints as Go prints a float32."""


def _format_float32(value: float) -> str:
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits = ""
    for precision in range(1, 10):  # the shortest decimal that reads back as this float32
        digits = f"{value:.{precision - 1}e}"
        if float32(float(digits)) == value:
            break
    magnitude = abs(value)
    if _F32_E_LOW <= magnitude < _F32_E_HIGH:
        text = format(Decimal(digits), "f")
        return text
    mantissa, exponent = digits.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    exp = int(exponent)
    # Go prints at least two exponent digits, then its JSON encoder trims "e-07" to "e-7".
    exp_text = f"{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp_text.startswith("-0"):
        exp_text = "-" + exp_text[2:]
    return f"{mantissa}e{exp_text}"


# Go compares float32 magnitudes against float32(1e-6) and float32(1e21) to pick 'f' or 'e'.
_F32_E_LOW, _F32_E_HIGH = float32(1e-6), float32(1e21)

_ESCAPE_OUT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_OUT.update({"\b": "\\b", "\f": "\\f", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
_ESCAPE_OUT.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPE_OUT:
        return _ESCAPE_OUT[ch]
    if "\ud800" <= ch <= "\udfff":
        return "\\ufffd"  # Go cannot hold a lone surrogate; it writes U+FFFD
    return f"\\u{ord(ch):04x}"


def _marshal_string(value: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def _marshal(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_marshal_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Float32):
        out.append(_format_float32(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for k, (key, item) in enumerate(value.items()):
            if k:
                out.append(",")
            out.append(_marshal_string(key))
            out.append(":")
            _marshal(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for k, item in enumerate(value):
            if k:
                out.append(",")
            _marshal(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot marshal {type(value).__name__}")


def marshal(value: Any) -> bytes:
    """Compact JSON as Go's `json.Marshal` writes it (dicts keep their order; sort beforehand
    where Go would marshal a map)."""
    out: list[str] = []
    _marshal(value, out)
    return "".join(out).encode("utf-8", "surrogatepass")
