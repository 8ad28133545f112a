"""Go `encoding/json` texts reproduced by the embedded server (unit level, no sockets)."""

from __future__ import annotations

import pytest

from harness.faultproxy.collection import PROXY_TYPE
from harness.faultproxy.gojson import Float32, JSONDecodeError, decode, float32, marshal

SYNTAX = [
    (b"", "EOF"),
    (b" \r\n\t", "EOF"),
    (b'{"name":"a"', "unexpected EOF"),
    (b'{"name":', "unexpected EOF"),
    (b"tru", "unexpected EOF"),
    (b"-", "unexpected EOF"),
    (b"{b", "invalid character 'b' looking for beginning of object key string"),
    (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
    (b'{"a" 1}', "invalid character '1' after object key"),
    (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
    (b'{"a":[1 2]}', "invalid character '2' after array element"),
    (b'{"a":[1,]}', "invalid character ']' looking for beginning of value"),
    (b"x", "invalid character 'x' looking for beginning of value"),
    (b'"\\q"', "invalid character 'q' in string escape code"),
    (b'"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape"),
    (b'"a\nb"', "invalid character '\\n' in string literal"),
    (b"-a", "invalid character 'a' in numeric literal"),
    (b"1.e", "invalid character 'e' after decimal point in numeric literal"),
    (b"1e+", "unexpected EOF"),
    (b"1ex", "invalid character 'x' in exponent of numeric literal"),
    (b"trux", "invalid character 'x' in literal true (expecting 'e')"),
    (b"nil", "invalid character 'i' in literal null (expecting 'u')"),
    (b"'a'", "invalid character '\\'' looking for beginning of value"),
    (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),
]


@pytest.mark.parametrize(("body", "message"), SYNTAX)
def test_syntax_errors_use_the_words_of_gos_scanner(body: bytes, message: str) -> None:
    with pytest.raises(JSONDecodeError) as caught:
        decode(body, PROXY_TYPE)
    assert str(caught.value) == message


TYPES = [
    (b'{"enabled":"yes"}', "string", "Go struct field Proxy.enabled of type bool"),
    (b'{"name":1}', "number", "Go struct field Proxy.name of type string"),
    (b'{"name":true}', "bool", "Go struct field Proxy.name of type string"),
    (b'{"listen":{}}', "object", "Go struct field Proxy.listen of type string"),
    (b'{"upstream":[]}', "array", "Go struct field Proxy.upstream of type string"),
    (b'{"Logger":1}', "number", "Go struct field Proxy.Logger of type zerolog.Logger"),
    (b"[]", "array", "Go value of type toxiproxy.Proxy"),
    (b'"x"', "string", "Go value of type toxiproxy.Proxy"),
]


@pytest.mark.parametrize(("body", "value", "target"), TYPES)
def test_type_errors_name_the_struct_field_path_and_go_type(
    body: bytes, value: str, target: str
) -> None:
    with pytest.raises(JSONDecodeError) as caught:
        decode(body, PROXY_TYPE)
    assert str(caught.value) == f"json: cannot unmarshal {value} into {target}"


def test_only_the_first_value_is_read_and_keys_match_case_insensitively() -> None:
    assert decode(b'{"NAME":"a","Upstream":"b"} trailing garbage', PROXY_TYPE) == {
        "name": "a",
        "upstream": "b",
    }


def test_null_leaves_fields_alone_and_the_last_duplicate_key_wins() -> None:
    assert decode(b'{"enabled":null,"name":"a","name":"b"}', PROXY_TYPE) == {"name": "b"}


def test_strings_decode_escapes_surrogates_and_bad_utf8_like_go() -> None:
    body = b'{"name":"\\u00e9\\ud83d\\ude00\\ud800x\xff"}'
    assert decode(body, PROXY_TYPE) == {"name": "\u00e9\U0001f600\ufffdx\ufffd"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, b"1"),
        (0.5, b"0.5"),
        (0.1, b"0.1"),
        (-1.0, b"-1"),
        (123456789.0, b"123456790"),
        (1e-6, b"0.000001"),
        (1e-7, b"1e-7"),
        (1e21, b"1e+21"),
    ],
)
def test_float32_prints_like_go(value: float, text: bytes) -> None:
    assert marshal(Float32(float32(value))) == text


def test_strings_are_escaped_html_safe_like_go() -> None:
    assert marshal({"k": "<a&b>\u2028\n\x01é"}) == (
        b'{"k":"\\u003ca\\u0026b\\u003e\\u2028\\n\\u0001\xc3\xa9"}'
    )
