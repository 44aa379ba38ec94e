"""Formula compiler in three stages: ``tokenize`` → ``parse`` (syntax tree) → ``expand`` (model terms).

``parse_formula(text)`` runs all three and returns a frozen :class:`~bayesmixed.formula.ast.Formula`.
Every error is a :class:`FormulaError` that shows the formula with a caret under the offending position.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import combinations

from ..errors import FormulaError
from .ast import BinOp, Call, Expr, Formula, GroupTerm, Name, Num, Response, Str, Term, UnaryOp

__all__ = ["Token", "tokenize", "parse", "expand", "parse_formula"]


# --------------------------------------------------------------------------- stage 1: tokens
@dataclass(frozen=True)
class Token:
    kind: str  # "name", "num", "str", "op", "(", ")", ",", "end"
    value: str
    pos: int


_OPS = ["||", "**", "==", "!=", "<=", ">=", "%in%", "~", "+", "-", "*", "/", ":", "^", "|", "<", ">", "="]
_NUM = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ch == "." or unicodedata.category(ch).startswith("L")


def _is_name_char(ch: str) -> bool:
    return ch in "_." or unicodedata.category(ch)[0] in "LN"


def tokenize(text: str) -> list[Token]:
    """Split formula text into tokens; backtick-quoted names may hold any character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise FormulaError("unterminated string", text, i)
            tokens.append(Token("str", "".join(buf), i))
            i = j + 1
            continue
        if ch == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise FormulaError("unterminated backtick-quoted name", text, i)
            if j == i + 1:
                raise FormulaError("empty backtick-quoted name", text, i)
            tokens.append(Token("name", text[i + 1 : j], i))
            i = j + 1
            continue
        m = _NUM.match(text, i)
        if m and (ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit())):
            tokens.append(Token("num", m.group(0), i))
            i = m.end()
            continue
        if _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(text[j]):
                j += 1
            # a namespace prefix, as in splines::ns(x, 3), stays part of the name
            if text.startswith("::", j) and j + 2 < n and _is_name_start(text[j + 2]):
                j += 2
                while j < n and _is_name_char(text[j]):
                    j += 1
            tokens.append(Token("name", text[i:j], i))
            i = j
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token("op", "^" if op == "**" else op, i))
                i += len(op)
                break
        else:
            raise FormulaError(f"unexpected character {ch!r}", text, i)
    tokens.append(Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- stage 2: syntax tree
@dataclass(frozen=True)
class Node:
    """Generic syntax node: ``kind`` is "name", "num", "call", "paren", "binop", "unary" or "kwarg" (a named
    argument of a call: ``value`` is the name, the one child the value)."""

    kind: str
    value: str
    children: tuple["Node", ...]
    pos: int


# binding powers follow R's operator precedence
_BINARY = {
    "~": 1,
    "|": 10,
    "||": 10,
    "==": 15,
    "!=": 15,
    "<": 15,
    ">": 15,
    "<=": 15,
    ">=": 15,
    "+": 20,
    "-": 20,
    "*": 30,
    "/": 30,
    "%in%": 35,
    ":": 40,
    "^": 50,
}
_UNARY_BP = 45


class _Parser:
    def __init__(self, text: str, tokens: list[Token]):
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.open_parens: list[int] = []

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, msg: str, pos: int) -> FormulaError:
        return FormulaError(msg, self.text, pos)

    def expect_close(self, open_pos: int) -> None:
        tok = self.next()
        if tok.kind != ")":
            if tok.kind == "end":
                raise self.error("unbalanced parentheses: this '(' is never closed", open_pos)
            raise self.error(f"expected ')' but found {tok.value!r}", tok.pos)

    def expression(self, min_bp: int = 0) -> Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind != "op":
                break
            if tok.value == "=":
                raise self.error("'=' is not a formula operator (did you mean '~'?)", tok.pos)
            bp = _BINARY[tok.value]
            if bp <= min_bp and not (tok.value == "^" and bp == min_bp):
                break
            self.next()
            after = self.peek()
            if after.kind in (")", ",") or (after.kind == "end" and tok.value in ("|", "||")):
                if tok.value in ("|", "||"):
                    raise self.error(
                        f"the grouping factor is missing after {tok.value!r}: write e.g. (1 {tok.value} g) with g a column",
                        after.pos,
                    )
                if tok.value == "~":
                    raise self.error("the right-hand side is missing after '~': write e.g. y ~ 1 or y ~ x", after.pos)
                raise self.error(f"a term is missing after {tok.value!r}", after.pos)
            right = self.expression(bp if tok.value != "^" else bp - 1)
            left = Node("binop", tok.value, (left, right), tok.pos)
        return left

    def prefix(self) -> Node:
        tok = self.next()
        if tok.kind == "num":
            return Node("num", tok.value, (), tok.pos)
        if tok.kind == "str":
            return Node("str", tok.value, (), tok.pos)
        if tok.kind == "name":
            if self.peek().kind == "(":
                open_tok = self.next()
                args: list[Node] = []
                if self.peek().kind != ")":
                    while True:
                        if self.peek().kind == "name" and self.tokens[self.i + 1].value == "=":
                            key = self.next()
                            self.next()
                            if self.peek().kind in (")", ",", "end"):
                                raise self.error(f"the argument {key.value} = of {tok.value}() has no value", key.pos)
                            args.append(Node("kwarg", key.value, (self.expression(0),), key.pos))
                        elif args and args[-1].kind == "kwarg":
                            raise self.error(
                                f"in {tok.value}(), write the unnamed arguments before the named ones", self.peek().pos
                            )
                        else:
                            args.append(self.expression(0))
                        if self.peek().kind == ",":
                            self.next()
                            continue
                        break
                self.expect_close(open_tok.pos)
                return Node("call", tok.value, tuple(args), tok.pos)
            return Node("name", tok.value, (), tok.pos)
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise self.error("empty parentheses", tok.pos)
            inner = self.expression(0)
            self.expect_close(tok.pos)
            return Node("paren", "(", (inner,), tok.pos)
        if tok.kind == "op" and tok.value in ("-", "+"):
            operand = self.expression(_UNARY_BP)
            return Node("unary", tok.value, (operand,), tok.pos)
        if tok.kind == "end":
            raise self.error("formula ends too early: a term is missing", tok.pos)
        if tok.kind == "op" and tok.value == "~":
            raise self.error("the response is missing before '~', e.g. y ~ x", tok.pos)
        if tok.kind == ")":
            raise self.error("unbalanced parentheses: ')' without a matching '('", tok.pos)
        raise self.error(f"unexpected {tok.value!r}", tok.pos)


def parse(text: str) -> Node:
    """Parse formula text into a generic syntax tree (no expansion)."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, got {type(text).__name__}", str(text), 0)
    if not text.strip():
        raise FormulaError("the formula is empty", text, 0)
    tokens = tokenize(text)
    p = _Parser(text, tokens)
    node = p.expression(0)
    tok = p.peek()
    if tok.kind == ")":
        raise FormulaError("unbalanced parentheses: ')' without a matching '('", text, tok.pos)
    if tok.kind != "end":
        raise FormulaError(f"unexpected {tok.value!r}", text, tok.pos)
    return node


# --------------------------------------------------------------------------- stage 3: expansion
#: smooth terms (mgcv's s() and t2(), brms's gp()) and brms's residual correlation structures
_SMOOTHS = ("s", "t2", "gp")
_AUTOCOR = ("ar", "cosy", "arma", "ma", "car", "sar", "fcor", "unstr")

class _Expander:
    def __init__(self, text: str):
        self.text = text

    def error(self, msg: str, node: Node) -> FormulaError:
        return FormulaError(msg, self.text, node.pos)

    # value expressions (inside calls, the response)
    def value(self, node: Node) -> Expr:
        if node.kind == "name":
            if node.value == "." and self.text[node.pos] != "`":
                raise self.error("'.' (all other columns) is not supported: list the predictors, e.g. y ~ x1 + x2", node)
            return Name(node.value)
        if node.kind == "num":
            return Num(float(node.value))
        if node.kind == "str":
            return Str(node.value)
        if node.kind == "paren":
            return self.value(node.children[0])
        if node.kind == "unary":
            inner = self.value(node.children[0])
            if isinstance(inner, Num):
                return Num(-inner.value if node.value == "-" else inner.value)
            return UnaryOp(node.value, inner)
        if node.kind == "call":
            args = tuple(self.value(a) for a in node.children if a.kind != "kwarg")
            kwargs = []
            for a in node.children:
                if a.kind == "kwarg":
                    if any(k == a.value for k, _ in kwargs):
                        raise self.error(f"the argument {a.value} = is given twice in {node.value}()", a)
                    kwargs.append((a.value, self.value(a.children[0])))
            return Call(node.value, args, tuple(kwargs))
        if node.kind == "binop":
            if node.value in ("|", "||", "~", ":", "%in%"):
                raise self.error(f"operator {node.value!r} cannot be used inside a function call", node)
            return BinOp(node.value, self.value(node.children[0]), self.value(node.children[1]))
        raise self.error("not a value", node)

    # fixed-part algebra: returns (terms in order, intercept flag or None, offsets, groups)
    def terms(self, node: Node, acc: "_TermSet") -> None:
        k = node.kind
        if k == "binop" and node.value == "+":
            self.terms(node.children[0], acc)
            self.terms(node.children[1], acc)
        elif k == "binop" and node.value == "-":
            self.terms(node.children[0], acc)
            sub = _TermSet()
            self.terms(node.children[1], sub)
            self.subtract(acc, sub, node.children[1])
        elif k == "unary" and node.value == "-":
            sub = _TermSet()
            self.terms(node.children[0], sub)
            self.subtract(acc, sub, node.children[0])
        elif k == "unary" and node.value == "+":
            self.terms(node.children[0], acc)
        elif k == "num":
            v = float(node.value)
            if v == 1:
                acc.intercept = True
            elif v == 0:
                acc.intercept = False
            else:
                raise self.error(f"the number {node.value} is not a term (only 0, 1 and -1 are)", node)
        elif k == "paren":
            inner = node.children[0]
            if inner.kind == "binop" and inner.value in ("|", "||"):
                acc.groups.extend(self.group(inner))
            else:
                self.terms(inner, acc)
        elif k == "binop" and node.value in ("|", "||"):
            raise self.error("a random-effect term must be written in parentheses, e.g. (1 + x | g)", node)
        elif k == "binop" and node.value in ("*", ":", "/", "^"):
            for t in self.product(node):
                acc.add(t)
        elif k == "call" and node.value == "offset":
            if len(node.children) != 1:
                raise self.error("offset() takes exactly one argument", node)
            acc.offsets.append(self.value(node.children[0]))
        elif k == "call" and node.value in _SMOOTHS:
            acc.smooths.append(self.value(node))
        elif k == "call" and node.value in _AUTOCOR:
            if node.value not in ("ar", "cosy"):
                raise self.error(f"{node.value}() residual correlation is not supported; use ar(time = t, gr = g, p = 1) "
                                 "or cosy(gr = g)", node)
            acc.autocor.append(self.value(node))
        elif k in ("name", "call"):
            if k == "call" and node.value in ("cbind",) + RESPONSE_TERMS:
                raise self.error(f"{node.value}() belongs on the left-hand side of '~'", node)
            acc.add(Term((self.value(node),)))
        elif k == "binop" and node.value in ("==", "!=", "<", ">", "<=", ">="):
            acc.add(Term((self.value(node),)))  # a logical variable, as R reads (x > 5)
        elif k == "str":
            raise self.error(f"the string {node.value!r} is not a term; strings are arguments, e.g. dummy(f, \"a\")", node)
        elif k == "binop" and node.value == "~":
            raise self.error("a formula can have only one '~'", node)
        else:
            raise self.error(f"{node.value!r} cannot be used here; wrap arithmetic in I(), e.g. I(x {node.value} 2)", node)

    def subtract(self, acc: "_TermSet", sub: "_TermSet", node: Node) -> None:
        for kind in ("smooths", "autocor"):  # '- s(x)' removes that smooth (as written), as update() does
            taken = getattr(sub, kind)
            if taken:
                setattr(acc, kind, [e for e in getattr(acc, kind) if e not in taken])
                setattr(sub, kind, [])
        if sub.groups or sub.offsets:
            raise self.error("random-effect terms and offsets cannot be subtracted; leave them out instead", node)
        acc.remove(sub)

    def product(self, node: Node) -> list[Term]:
        """Expand ``*``, ``:``, ``/`` and ``^`` into a list of terms (no intercept)."""
        if node.kind == "binop" and node.value in ("*", ":", "/"):
            left = self.product(node.children[0])
            right = self.product(node.children[1])
            if node.value == ":":
                return _dedupe([_interact(a, b) for a in left for b in right])
            if node.value == "*":
                return _dedupe(left + right + [_interact(a, b) for a in left for b in right])
            # a/b = a + (all factors of a):b
            all_left = Term(tuple(dict.fromkeys(f for t in left for f in t.factors)))
            return _dedupe(left + [_interact(all_left, b) for b in right])
        if node.kind == "binop" and node.value == "^":
            base = self.product(node.children[0])
            power = node.children[1]
            if power.kind != "num" or not float(power.value).is_integer() or float(power.value) < 1:
                raise self.error("the power of a term must be a positive whole number, e.g. (a + b)^2", power)
            out = list(base)
            for order in range(2, int(float(power.value)) + 1):
                for combo in combinations(base, order):
                    t = combo[0]
                    for c in combo[1:]:
                        t = _interact(t, c)
                    out.append(t)
            return _dedupe(out)
        acc = _TermSet()
        self.terms(node, acc)
        if acc.smooths or acc.autocor:
            raise self.error("a smooth term or residual correlation cannot be crossed with '*', ':', '/' or '^'; "
                             "for a smooth per level of a factor write s(x, by = f)", node)
        if acc.groups or acc.offsets or acc.intercept is not None or acc.removed:
            raise self.error("only variables can be crossed with '*', ':', '/' or '^'", node)
        return acc.terms

    def group(self, node: Node) -> list[GroupTerm]:
        correlated = node.value == "|"
        lhs, rhs = node.children
        acc = _TermSet()
        self.terms(lhs, acc)
        if acc.groups:
            raise self.error("random-effect terms cannot be nested inside each other", lhs)
        if acc.offsets:
            raise self.error("offset() cannot be a random effect", lhs)
        if acc.smooths or acc.autocor:
            raise self.error("smooth terms and residual correlation belong outside random-effect terms "
                             "(write y ~ s(x) + (1 | g))", lhs)
        intercept = acc.intercept if acc.intercept is not None else True
        order = _variable_order(self, [lhs])
        terms = ([Term(())] if intercept else []) + _order([_sort_factors(t, order) for t in acc.terms])
        if not terms:
            raise self.error("this random-effect term has no coefficients (0 and nothing else)", lhs)
        return [
            GroupTerm(tuple(terms), f, correlated, None if lo == tuple(range(len(f))) else lo)
            for f, lo in self.grouping(rhs)
        ]

    def grouping(self, node: Node) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
        """Grouping columns of the terms a grouping expression stands for, each with the order of its levels
        (positions of the columns, slowest-varying first) as lme4 builds them."""
        if node.kind == "name":
            return [((node.value,), (0,))]
        if node.kind == "paren":
            return self.grouping(node.children[0])
        if node.kind == "binop" and node.value == ":":
            out = []
            for a, ao in self.grouping(node.children[0]):
                for b, bo in self.grouping(node.children[1]):
                    out.append((a + b, ao + tuple(len(a) + i for i in bo)))
            return out
        if node.kind == "binop" and node.value == "/":
            left = self.grouping(node.children[0])
            right = self.grouping(node.children[1])
            outer, outer_order = left[-1]
            # lme4 writes a/b as b:a: the inner column's levels vary slowest
            return left + [(outer + r, tuple(len(outer) + i for i in ro) + outer_order) for r, ro in right]
        if node.kind == "binop" and node.value == "+":
            raise self.error(
                "a random-effect term has one grouping factor; write (1 | a) + (1 | b) for crossed factors", node
            )
        raise self.error("a grouping factor must be a column name (or a:b, a/b)", node)


class _TermSet:
    def __init__(self) -> None:
        self.terms: list[Term] = []
        self.intercept: bool | None = None
        self.offsets: list[Expr] = []
        self.groups: list[GroupTerm] = []
        self.smooths: list[Expr] = []
        self.autocor: list[Expr] = []
        self.removed = False

    def add(self, t: Term) -> None:
        if t not in self.terms:
            self.terms.append(t)

    def remove(self, other: "_TermSet") -> None:
        self.removed = True
        if other.intercept is True:
            self.intercept = False
        elif other.intercept is False:  # "- 0" adds the intercept back, as in R
            self.intercept = True
        self.terms = [t for t in self.terms if t not in other.terms]
        if other.groups or other.offsets:
            raise FormulaError("random-effect terms and offsets cannot be subtracted", "", 0)


def _interact(a: Term, b: Term) -> Term:
    return Term(tuple(dict.fromkeys(a.factors + b.factors)))


def _dedupe(ts: list[Term]) -> list[Term]:
    out: list[Term] = []
    for t in ts:
        if t not in out:
            out.append(t)
    return out


def _order(ts: list[Term]) -> list[Term]:
    """R's order: by the number of variables in the term, then order of appearance."""
    return sorted(ts, key=lambda t: len(t.factors))


def _variable_order(ex: "_Expander", nodes: list[Node]) -> dict[Expr, int]:
    """The variables of a formula in order of first appearance (R's ``terms()`` numbers them so), skipping
    random-effect terms: R names and orders the variables of an interaction by this order, so that in
    ``y ~ tos + trt:tos`` the interaction is ``tos:trt``."""
    out: dict[Expr, int] = {}

    def walk(node: Node) -> None:
        k = node.kind
        if k == "binop" and node.value in ("==", "!=", "<", ">", "<=", ">="):
            out.setdefault(ex.value(node), len(out))  # (x > 5) is one (logical) variable
        elif k in ("binop", "unary"):
            if k == "binop" and node.value in ("|", "||"):
                return
            kids = node.children[:1] if node.value == "^" else node.children
            for c in kids:
                walk(c)
        elif k == "paren":
            inner = node.children[0]
            if not (inner.kind == "binop" and inner.value in ("|", "||")):
                walk(inner)
        elif k == "name" or (k == "call" and node.value != "offset"):
            v = ex.value(node)
            out.setdefault(v, len(out))

    for n in nodes:
        walk(n)
    return out


def _sort_factors(t: Term, order: dict[Expr, int]) -> Term:
    return Term(tuple(sorted(t.factors, key=lambda f: order.get(f, len(order)))))


def expand(tree: Node, text: str) -> Formula:
    """Turn a syntax tree into model terms.

    A bar at the top of the right-hand side without parentheses (``y ~ x + 1 | g``) is read as lme4 reads
    it: ``|`` binds loosest, so the whole right-hand side is the random-effect term ``(x + 1 | g)`` and the
    fixed part is the intercept alone.
    """
    ex = _Expander(text)
    if tree.kind == "binop" and tree.value == "~":
        lhs_node, rhs_node = tree.children
        if lhs_node.kind == "binop" and lhs_node.value == "~":
            raise FormulaError("a formula can have only one '~'", text, tree.pos)
        response = _response(ex, lhs_node)
    else:
        raise FormulaError("a formula needs '~' between the response and the predictors, e.g. y ~ x", text, len(text))
    acc = _TermSet()
    if rhs_node.kind == "binop" and rhs_node.value in ("|", "||"):
        acc.groups.extend(ex.group(rhs_node))
    else:
        ex.terms(rhs_node, acc)
    intercept = acc.intercept if acc.intercept is not None else True
    order = _variable_order(ex, [lhs_node, rhs_node])
    return Formula(
        text=text,
        response=response,
        intercept=intercept,
        terms=tuple(_order([_sort_factors(t, order) for t in acc.terms])),
        offsets=tuple(acc.offsets),
        groups=tuple(acc.groups),
        smooths=tuple(acc.smooths),
        autocor=tuple(acc.autocor),
    )


#: brms's response terms that bayesmixed reads after the bar on the left of '~'
RESPONSE_TERMS = ("trials", "weights", "cens", "trunc")


def _plus_terms(node: Node) -> list[Node]:
    """The operands of a chain of ``+``."""
    if node.kind == "binop" and node.value == "+":
        return _plus_terms(node.children[0]) + _plus_terms(node.children[1])
    if node.kind == "paren":
        return _plus_terms(node.children[0])
    return [node]


def _response(ex: _Expander, node: Node) -> Response:
    if node.kind == "binop" and node.value == "|":
        left, right = node.children
        base = _response(ex, left)
        if base.has_terms or base.kind == "trials":
            raise ex.error("a response has one '|': write its terms joined by '+', e.g. y | weights(w) + cens(c)", node)
        fields: dict = {"expr": base.expr, "kind": base.kind, "second": base.second}
        seen: set[str] = set()
        for term in _plus_terms(right):
            if term.kind != "call" or term.value not in RESPONSE_TERMS:
                raise ex.error(
                    "on the left of '~', '|' is followed by brms's response terms: trials(n), weights(w), cens(c) or "
                    "cens(c, y2), trunc(lb = 0, ub = 10), joined by '+'", term)
            name = term.value
            if name in seen:
                raise ex.error(f"{name}() is given twice in the response", term)
            seen.add(name)
            args = [a for a in term.children if a.kind != "kwarg"]
            kwargs = {a.value: a.children[0] for a in term.children if a.kind == "kwarg"}
            if name == "trials":
                if base.kind == "cbind":
                    raise ex.error("cbind(successes, failures) already gives the numbers of trials; drop trials()", term)
                if len(args) != 1 or kwargs:
                    raise ex.error("trials() takes one argument: successes | trials(n)", term)
                fields.update(kind="trials", second=ex.value(args[0]))
            elif name == "weights":
                if len(args) != 1 or kwargs:
                    raise ex.error("weights() takes one argument, the column of likelihood weights: y | weights(w)", term)
                fields["weights"] = ex.value(args[0])
            elif name == "cens":
                unknown = set(kwargs) - {"y2"}
                if unknown or not 1 <= len(args) + len(kwargs) <= 2 or not args:
                    raise ex.error("cens() takes the censoring column and, for interval censoring, the upper ends: "
                                   "y | cens(c) or y | cens(c, y2)", term)
                fields["cens"] = ex.value(args[0])
                y2 = args[1] if len(args) > 1 else kwargs.get("y2")
                fields["y2"] = None if y2 is None else ex.value(y2)
            else:  # trunc
                unknown = set(kwargs) - {"lb", "ub"}
                if unknown or len(args) > 2 or not (args or kwargs):
                    raise ex.error("trunc() takes the bounds lb = and/or ub =, e.g. y | trunc(lb = 0, ub = 10)", term)
                named = dict(zip(("lb", "ub"), args))
                if set(named) & set(kwargs):
                    raise ex.error("trunc(): a bound is given twice", term)
                named.update(kwargs)
                for k in ("lb", "ub"):
                    fields[k] = ex.value(named[k]) if k in named else None
        return Response(**fields)
    if node.kind == "call" and node.value == "cbind":
        if len(node.children) != 2:
            raise ex.error("cbind() takes two arguments: cbind(successes, failures)", node)
        return Response(ex.value(node.children[0]), "cbind", ex.value(node.children[1]))
    if node.kind == "binop" and node.value in ("+", "*", ":", "~"):
        raise ex.error("the response must be a single variable or expression; use I() for arithmetic", node)
    return Response(ex.value(node))


def parse_formula(text: str) -> Formula:
    """Compile formula text into a frozen :class:`Formula`.

    Examples
    --------
    >>> f = parse_formula("Reaction ~ Days + (Days | Subject)")
    >>> [t.label for t in f.terms], [str(g) for g in f.groups]
    (['Days'], ['(1 + Days | Subject)'])
    """
    try:
        return expand(parse(text), text)
    except RecursionError:
        raise FormulaError(
            f"the formula is too long or too deeply nested to read ({len(text)} characters); write fewer terms, "
            "e.g. build a combined column in the data frame", text[:80], 0
        ) from None
