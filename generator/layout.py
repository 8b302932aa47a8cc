"""Black's layout for the code accessgen generates, without running black.

Templates write every statement on one line, already spaced and quoted as black would. This
module breaks the lines that are too long the way black does for the shapes accessgen emits:
at the statement's bracket (the first one of a ``def``, the last one otherwise), one item per
line with a magic trailing comma, recursively. Black keeps such a layout as it is, so the
output is black's style without paying black on every line. A line whose layout this module
cannot promise (a long union outside brackets, a long return annotation, a one-element
subscript...) marks the file for black instead: see ``format``.
"""

from __future__ import annotations

import bisect
import functools
import keyword
import math
import re
from typing import Any, NamedTuple

LINE_LENGTH = 100
INDENT = "    "


class CannotPromise(Exception):
    """Black might lay this line out differently: the file must go through black."""


# ---------------------------------------------------------------- strings and widths


def python_string(value: str) -> str:
    """``value`` as a string literal quoted as black quotes it (double quotes unless that
    needs more backslashes)."""
    literal = repr(value)
    if literal[0] == '"':
        return literal
    body = literal[1:-1]
    requoted = body.replace("\\'", "'").replace('"', '\\"')
    if requoted.count("\\") > body.count("\\"):
        return literal
    return f'"{requoted}"'


def python_literal(value: Any) -> str:
    """Source for a JSON-like value, spelled as black spells it (non-finite floats included)."""
    if isinstance(value, str):
        return python_string(value)
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return 'float("nan")'
        return 'float("inf")' if value > 0 else '-float("inf")'
    if isinstance(value, tuple):
        inner = ", ".join(python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def fits(line: str, limit: int = LINE_LENGTH) -> bool:
    """Whether black counts ``line`` within ``limit``; wide characters make it uncertain."""
    if line.isascii():
        return len(line) <= limit
    narrow = sum(1 for char in line if char.isascii())
    if narrow + 2 * (len(line) - narrow) <= limit:
        return True
    if narrow > limit:
        return False
    raise CannotPromise("the width of non-ASCII text is black's to measure")


# ---------------------------------------------------------------- scanning

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}
_STRING = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")


# A string literal, a bracket, a comma, or the start of a comment or of a string this module
# does not read (an unterminated one, a triple-quoted one).
_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|[()\[\]{},#'"]""")


class _Scan(NamedTuple):
    events: tuple[tuple[int, str, int], ...]  # (index, bracket or comma, depth before it)
    depths: tuple[tuple[int, int], ...]  # (index, depth from there on), at each bracket
    strings: tuple[tuple[int, int], ...]  # (start, end) of each string literal


@functools.lru_cache(maxsize=4096)
def _scan(code: str) -> _Scan:
    events: list[tuple[int, str, int]] = []
    depths: list[tuple[int, int]] = [(0, 0)]
    strings: list[tuple[int, int]] = []
    depth = 0
    for match in _TOKEN.finditer(code):
        token, index = match.group(), match.start()
        if len(token) > 1:
            strings.append((index, match.end()))
        elif token in _OPEN:
            events.append((index, token, depth))
            depth += 1
            depths.append((index + 1, depth))
        elif token in _CLOSE:
            depth -= 1
            events.append((index, token, depth))
            depths.append((index, depth))
        elif token == ",":
            events.append((index, token, depth))
        elif token == "#":
            raise CannotPromise("a comment inside a statement")
        else:
            raise CannotPromise("a string literal this module does not read")
    return _Scan(tuple(events), tuple(depths), tuple(strings))


def _structure(code: str) -> tuple[tuple[int, str, int], ...]:
    """(index, character, depth before it) of each bracket and comma outside string literals."""
    return _scan(code).events


def _brackets(code: str) -> list[tuple[int, int]]:
    """(opening, closing) index pairs of the brackets at depth 0, left to right."""
    pairs = []
    opening = -1
    for index, char, depth in _structure(code):
        if depth == 0 and char in _OPEN:
            opening = index
        elif depth == 0 and char in _CLOSE:
            pairs.append((opening, index))
    return pairs


def _items(body: str) -> list[str]:
    """The comma-separated items of a bracket's body (a trailing comma ends none)."""
    cuts = [index for index, char, depth in _structure(body) if char == "," and depth == 0]
    items, start = [], 0
    for cut in cuts:
        items.append(body[start:cut].strip())
        start = cut + 1
    last = body[start:].strip()
    if last:
        items.append(last)
    return items


# The part after the bracket being split: closing brackets, attribute access, and what ends a
# statement or an item (a colon, a comma, a return annotation).
_TAIL = re.compile(r"^[)\]}](?:\.[A-Za-z_][A-Za-z0-9_]*)*(?: -> .+)?[:,]?$")
_FROM_IMPORT = re.compile(r"^(from \S+ import )([A-Za-z_][A-Za-z0-9_, ]*)$")
_TARGET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_STATEMENT_KEYWORDS = ("return ", "yield ", "await ", "async ", "def ", "class ", "if ", "for ", "while ", "with ", "raise ", "assert ", "from ", "import ")


def _top_level(code: str, token: str) -> list[int]:
    """Indexes of ``token`` (`` = ``, ``: `` or `` | ``) outside brackets and strings."""
    scan = _scan(code)
    found = []
    index = code.find(token)
    while index != -1:
        depth = scan.depths[bisect.bisect_right(scan.depths, (index, 1 << 30)) - 1][1]
        if depth == 0 and not any(start <= index < end for start, end in scan.strings):
            found.append(index)
        index = code.find(token, index + 1)
    return found


def _assignment(code: str) -> tuple[str, str | None, str | None] | None:
    """(target, annotation, value) of ``target[: annotation][ = value]``, or None for other statements."""
    if code.startswith(_STATEMENT_KEYWORDS) or code.startswith("lambda"):
        return None
    equals = _top_level(code, " = ")
    colons = _top_level(code, ": ")
    if not equals and not colons:
        return None
    end_of_target = min(equals[:1] + colons[:1])
    target = code[:end_of_target]
    if not _TARGET.match(target):
        return None
    value = code[equals[0] + 3 :] if equals else None
    annotation_end = equals[0] if equals else len(code)
    annotation = code[colons[0] + 2 : annotation_end] if colons and colons[0] == end_of_target else None
    return target, annotation, value


def _is_atom(code: str) -> bool:
    """A name, number or string: nothing black could split."""
    return not any(char in _OPEN or char == "," for _, char, _ in _structure(code)) and not _top_level(code, " ")


# ---------------------------------------------------------------- laying out


def lay_out(code: str, indent: str = "") -> list[str]:
    """``code`` (one statement or bracket item, without indentation) as black lays it out."""
    if fits(indent + code):
        return [indent + code]
    imported = _FROM_IMPORT.match(code)
    if imported:  # black wraps a long import in parentheses, one name per line
        names = [name.strip() for name in imported.group(2).split(",")]
        return [f"{indent}{imported.group(1)}("] + [f"{indent}{INDENT}{name}," for name in names] + [f"{indent})"]
    if code.startswith("lambda"):
        raise CannotPromise("a long lambda")
    assignment = _assignment(code)
    if assignment is not None:
        return _assignment_lines(*assignment, indent)
    if not _brackets(code.rstrip(",")) and not _top_level(code, " | "):
        return [indent + code]  # nothing black could split either (a name, a string, "key": NAME)
    return _bracket_lines(code, indent)


def _bracket_lines(code: str, indent: str) -> list[str]:
    """Split at the statement's bracket: one item per line, with a magic trailing comma."""
    if code[:1] in _CLOSE:  # the closing line of an outer split, carrying the rest: `] = Call(...)`
        lines = _bracket_lines(code[1:].lstrip(), indent)
        return [f"{indent}{code[0]}{code[1:len(code) - len(code[1:].lstrip())]}{lines[0][len(indent):]}"] + lines[1:]
    pairs = _brackets(code)
    if not pairs:
        raise CannotPromise("a long line without brackets")
    is_def = code.startswith(("def ", "async def "))
    is_class = code.startswith("class ")
    opening, closing = pairs[0] if is_def or is_class else pairs[-1]
    head, body, tail = code[: opening + 1], code[opening + 1 : closing], code[closing:]
    if not _TAIL.match(tail):
        raise CannotPromise(f"what follows the bracket: {tail[:40]!r}")
    items = _items(body)
    if not items:
        raise CannotPromise("an empty bracket on a long line")
    if len(items) == 1 and code[opening] == "[":
        raise CannotPromise("a one-element subscript")
    if not fits(indent + tail):
        raise CannotPromise("the line is too long after its bracket")
    lines = [indent + head] if is_def or is_class or fits(indent + head) else _long_head_lines(head, indent)
    word = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", head[:-1])
    is_call = (word is not None and not keyword.iskeyword(word.group())) or head[-2:-1] in _CLOSE
    grouping = code[opening] == "(" and not is_call and len(items) == 1 and not body.rstrip().endswith(",")
    display = code[opening] in "{[" and not is_call or (code[opening] == "(" and not is_call and not grouping)
    hugged = ", ".join(items)
    if grouping or (is_class and len(items) == 1):
        # A parenthesised expression (a comma would make it a tuple), or a class's single base.
        lines.extend(lay_out(items[0], indent + INDENT))
    elif not display and not body.rstrip().endswith(",") and not (is_def and len(items) == 1) and fits(indent + INDENT + hugged):
        # Black keeps arguments on one line when they fit (it gives a lone parameter a comma).
        lines.append(indent + INDENT + hugged)
    else:
        for item in items:
            lines.extend(_parameter_lines(item, indent + INDENT) if is_def else lay_out(item + ",", indent + INDENT))
    lines.append(indent + tail)
    return lines


def _parameter_lines(parameter: str, indent: str) -> list[str]:
    """One parameter of an exploded signature, ``name: annotation[ = default],``: a long
    annotation goes in parentheses (a bare name too long for any line stays whole)."""
    if fits(f"{indent}{parameter},") or ": " not in parameter:
        return [f"{indent}{parameter},"]
    name, annotation = parameter.split(": ", 1)
    defaults = _top_level(annotation, " = ")
    rest = annotation[defaults[0] :] if defaults else ""
    annotation = annotation[: defaults[0]] if defaults else annotation
    if _is_atom(annotation):
        return [f"{indent}{parameter},"]
    lines = _annotation_lines(name, annotation, rest, indent)
    lines[-1] += ","
    if not fits(lines[-1]):
        raise CannotPromise("a long default after a long annotation")
    return lines


def _long_head_lines(head: str, indent: str) -> list[str]:
    """A head (ending in an opening bracket) too long for a line, split at its last bracket pair
    as black splits it: ``NAME: OperationSpec[`` / ``models.X`` / ``] = OperationSpec(``."""
    pairs = _brackets(head[:-1])
    if not pairs:
        return [indent + head]  # nothing black could split: the head stays long
    opening, closing = pairs[-1]
    items = _items(head[opening + 1 : closing])
    if len(items) != 1 or head[opening] != "[":
        raise CannotPromise("a long head black would split otherwise")
    lines = [indent + head[: opening + 1]] + lay_out(items[0], indent + INDENT) + [indent + head[closing:]]
    if not all(fits(line) for line in (lines[0], lines[-1])):
        raise CannotPromise("a head too long even when split")
    return lines


def _assignment_lines(target: str, annotation: str | None, value: str | None, indent: str) -> list[str]:
    """Black's layout of a long ``target: annotation = value``, for the shapes generated code has.

    Black puts invisible parentheses around the annotation and the value and splits at the
    value's own bracket, else wraps the value, else the annotation: which one follows from
    what fits (``linegen._maybe_split_omitting_optional_parens`` and its helpers).
    """
    left = target if annotation is None else f"{target}: {annotation}"
    if value is None:
        assert annotation is not None
        return _annotation_lines(target, annotation, "", indent)
    left_fits = fits(f"{indent}{left} = (")
    if value[-1:] in _CLOSE and not _is_atom(value):
        opening = _brackets(value)[-1][0]
        if left_fits and fits(f"{indent}{left} = {value[: opening + 1]}"):
            return _bracket_lines(f"{left} = {value}", indent)
        if left_fits:
            return [f"{indent}{left} = ("] + lay_out(value, indent + INDENT) + [f"{indent})"]
        if annotation is None:
            raise CannotPromise("a long target before a bracketed value")
        return _annotation_lines(target, annotation, f" = {value}", indent)
    if _top_level(value, " | "):  # a union: black wraps it in parentheses
        if not fits(f"{indent}{left} = ("):
            raise CannotPromise("a long target before a union")
        return [f"{indent}{left} = ("] + _operand_lines(value, indent + INDENT) + [f"{indent})"]
    if not _is_atom(value):
        raise CannotPromise(f"a value of a shape this module does not lay out: {value[:40]!r}")
    if left_fits:
        if not fits(indent + INDENT + value):
            return [f"{indent}{left} = {value}"]  # black leaves what it cannot shorten
        return [f"{indent}{left} = (", f"{indent}{INDENT}{value}", f"{indent})"]
    if annotation is None:
        raise CannotPromise("a long target")
    return _annotation_lines(target, annotation, f" = {value}", indent)


def _annotation_lines(target: str, annotation: str, rest: str, indent: str) -> list[str]:
    """``target: annotation`` + ``rest`` with the annotation split: at its own subscript when it
    is one, else inside parentheses black adds (one ``|`` operand per line when needed)."""
    pairs = _brackets(annotation)
    if pairs and pairs[-1][1] == len(annotation) - 1 and not _top_level(annotation, " | "):
        opening = pairs[-1][0]
        items = _items(annotation[opening + 1 : -1])
        if len(items) != 1:
            raise CannotPromise("a long subscript of several items")
        head = f"{target}: {annotation[: opening + 1]}"
        if not fits(indent + head):
            raise CannotPromise("a long annotation head")
        return [indent + head] + lay_out(items[0], indent + INDENT) + _closing_lines(f"]{rest}", indent)
    if _is_atom(annotation) and not fits(indent + INDENT + annotation):
        # Parentheses cannot make it fit: black leaves a bare declaration whole, and puts an atom
        # value in visible parentheses (`= (None)`); a bracketed value still gets the split below.
        if not rest:
            return [f"{indent}{target}: {annotation}"]
        if _is_atom(rest[3:]):
            return [f"{indent}{target}: {annotation} = ({rest[3:]})"]
    return [f"{indent}{target}: ("] + _operand_lines(annotation, indent + INDENT) + _closing_lines(f"){rest}", indent)


def _closing_lines(tail: str, indent: str) -> list[str]:
    """The line that closes a bracket and carries the rest of the statement (`) = value`)."""
    if fits(indent + tail):
        return [indent + tail]
    if tail[-1:] in _CLOSE:
        return _bracket_lines(tail, indent)
    raise CannotPromise("a long value after a long annotation")


def _operand_lines(expression: str, indent: str) -> list[str]:
    """An expression inside black's parentheses: one line, else one ``|`` operand per line."""
    if fits(indent + expression):
        return [indent + expression]
    cuts = _top_level(expression, " | ")
    if not cuts:
        if _is_atom(expression):
            return [indent + expression]  # nothing to split: it stays long
        raise CannotPromise("a long annotation black would split inside its brackets")
    operands = []
    start = 0
    for cut in cuts:
        operands.append(expression[start:cut])
        start = cut + 3
    operands.append(expression[start:])
    lines: list[str] = []
    for position, operand in enumerate(operands):
        prefix = "" if position == 0 else "| "
        if fits(indent + prefix + operand) or _is_atom(operand):
            lines.append(indent + prefix + operand)  # an atom stays whole, however long
            continue
        pairs = _brackets(operand)
        if not pairs or pairs[-1][1] != len(operand) - 1 or operand[pairs[-1][0]] != "[":
            raise CannotPromise("a union member too long for a line")
        opening = pairs[-1][0]
        lines.append(f"{indent}{prefix}{operand[: opening + 1]}")
        lines.extend(_subscript_items(_items(operand[opening + 1 : -1]), indent + INDENT))
        lines.append(f"{indent}]")
    return lines


def _subscript_items(items: list[str], indent: str) -> list[str]:
    """The items of a split subscript: on one line when they fit, else one per line with a
    trailing comma (never for a lone item, where the comma would make a tuple)."""
    if len(items) == 1:
        return lay_out(items[0], indent)
    if fits(indent + ", ".join(items)):
        return [indent + ", ".join(items)]
    return [line for item in items for line in lay_out(item + ",", indent)]


def lay_out_module(text: str) -> str:
    """Every line of ``text`` laid out; ``CannotPromise`` when black must see the module."""
    out: list[str] = []
    in_string: str | None = None  # the quotes of a multi-line string being copied
    for line in text.split("\n"):
        if in_string is not None:
            out.append(line)
            if in_string in line:
                in_string = None
            continue
        stripped = line.lstrip(" ")
        quotes = stripped[:3] if stripped[:3] in ('"""', "'''") else None
        if quotes is None and stripped.startswith(("r" + '"""', "r'''")):
            quotes = stripped[1:4]
        if quotes is not None:
            rest = stripped[len(quotes) + (stripped[0] == "r") :]
            if quotes not in rest:
                in_string = quotes
            out.append(line)
            continue
        if fits(line):
            out.append(line)
            continue
        out.extend(lay_out(stripped, line[: len(line) - len(stripped)]))
    return "\n".join(out)
