"""Parser tests: formula text → frozen AST, no data, no sampling."""

from __future__ import annotations

import dataclasses

import pytest

from bayesmixed.errors import FormulaError
from bayesmixed.formula import BinOp, Call, GroupTerm, Name, Num, Response, Term, parse_formula, tokenize

x, y, g = Name("x"), Name("y"), Name("g")


def T(*names):
    return Term(tuple(Name(n) if isinstance(n, str) else n for n in names))


def test_random_slope_formula():
    f = parse_formula("Reaction ~ Days + (Days | Subject)")
    assert f.response == Response(Name("Reaction"))
    assert f.intercept is True
    assert f.terms == (T("Days"),)
    assert f.groups == (GroupTerm((Term(()), T("Days")), ("Subject",), True),)


def test_uncorrelated_and_no_intercept_terms():
    f = parse_formula("y ~ x + (x || g) + (0 + x | h)")
    assert f.groups[0] == GroupTerm((Term(()), T("x")), ("g",), False)
    assert f.groups[1] == GroupTerm((T("x"),), ("h",), True)
    assert parse_formula("y ~ (-1 + x | g)").groups[0].terms == (T("x"),)


def test_nested_and_interaction_grouping():
    f = parse_formula("strength ~ 1 + (1 | batch/cask)")
    assert [gt.factor for gt in f.groups] == [("batch",), ("batch", "cask")]
    assert parse_formula("y ~ (1 | a:b)").groups[0].factor == ("a", "b")
    assert [gt.factor for gt in parse_formula("y ~ (1 | a/b/c)").groups] == [("a",), ("a", "b"), ("a", "b", "c")]


def test_crossed_terms_and_several_terms_on_one_factor():
    f = parse_formula("y ~ 1 + (1 | plate) + (1 | sample) + (0 + x | plate)")
    assert [gt.factor_label for gt in f.groups] == ["plate", "sample", "plate"]


def test_fixed_algebra_matches_r():
    assert parse_formula("y ~ a*b").terms == (T("a"), T("b"), T("a", "b"))
    assert parse_formula("y ~ a:b").terms == (T("a", "b"),)
    assert parse_formula("y ~ a/b").terms == (T("a"), T("a", "b"))
    assert parse_formula("y ~ (a + b + c)^2").terms == (
        T("a"), T("b"), T("c"), T("a", "b"), T("a", "c"), T("b", "c"),
    )
    # interaction order does not matter and duplicates collapse
    assert parse_formula("y ~ a:b + b:a + a").terms == (T("a"), T("a", "b"))
    # R orders terms by degree
    assert parse_formula("y ~ a:b + c").terms == (T("c"), T("a", "b"))


def test_intercept_removal_forms():
    for text in ("y ~ 0 + x", "y ~ x - 1", "y ~ -1 + x", "y ~ x + 0"):
        f = parse_formula(text)
        assert f.intercept is False and f.terms == (T("x"),), text
    assert parse_formula("y ~ x - 1 + 1").intercept is True


def test_functions_and_arithmetic_inside_calls():
    f = parse_formula("log(y) ~ I(x^2) + log(z) + scale(age) + I(a * b + 1)")
    assert f.response == Response(Call("log", (y,)))
    assert f.terms == (
        Term((Call("I", (BinOp("^", x, Num(2.0)),)),)),
        Term((Call("log", (Name("z"),)),)),
        Term((Call("scale", (Name("age"),)),)),
        Term((Call("I", (BinOp("+", BinOp("*", Name("a"), Name("b")), Num(1.0)),)),)),
    )
    assert f.terms[0].label == "I(x^2)"


def test_offset_and_binomial_responses():
    f = parse_formula("cbind(incidence, size - incidence) ~ period + offset(log(t)) + (1 | herd)")
    assert f.response == Response(Name("incidence"), "cbind", BinOp("-", Name("size"), Name("incidence")))
    assert f.offsets == (Call("log", (Name("t"),)),)
    assert f.terms == (T("period"),)
    f = parse_formula("s | trials(n) ~ x")
    assert f.response == Response(Name("s"), "trials", Name("n"))


def test_odd_names():
    f = parse_formula("`reaction time` ~ x.1 + `días` + é + (1 | `my group`)")
    assert f.response.expr == Name("reaction time")
    assert f.terms == (T("x.1"), T("días"), T("é"))
    assert f.groups[0].factor == ("my group",)
    assert "`reaction time`" in str(f)


def test_ast_is_frozen():
    f = parse_formula("y ~ x + (1 | g)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.intercept = False  # type: ignore[misc]


def test_round_trip_through_str():
    for text in ("Reaction ~ Days + (Days | Subject)", "y ~ a*b + (x || g) + (1 | a/b)", "y ~ 0 + x + offset(o)"):
        f = parse_formula(text)
        assert parse_formula(str(f)) == dataclasses.replace(parse_formula(str(f)), text=str(f))
        g2 = parse_formula(str(f))
        assert (g2.terms, g2.groups, g2.intercept, g2.offsets) == (f.terms, f.groups, f.intercept, f.offsets)


def test_tokenizer_positions():
    toks = tokenize("y ~ (x|g)")
    assert [(t.kind, t.value, t.pos) for t in toks][:4] == [("name", "y", 0), ("op", "~", 2), ("(", "(", 4), ("name", "x", 5)]


@pytest.mark.parametrize(
    "text, message, pos",
    [
        ("y ~ (x | g", "never closed", 4),
        ("y ~ x)", "without a matching", 5),
        ("y ~ x | g", "parentheses", 6),
        ("y ~ ", "ends too early", 4),
        ("~ x", "response is missing", 0),
        ("y ~ x + 2", "not a term", 8),
        ("y x", "unexpected", 2),
        ("y ~ x + $", "unexpected character", 8),
        ("y ~ (1 | a + b)", "one grouping factor", 11),
        ("y ~ (1 | log(g))", "grouping factor must be a column", 9),
        ("y ~ x ~ z", "only one", 6),
        ("", "empty", 0),
        ("y ~ `unclosed", "unterminated", 4),
        ("y ~ (0 | g)", "no coefficients", 5),
        ("y ~ x^y", "positive whole number", 6),
        ("y ~ ((1 | g) | h)", "nested inside", 5),
    ],
)
def test_parse_errors_point_at_the_position(text, message, pos):
    with pytest.raises(FormulaError) as e:
        parse_formula(text)
    assert message in str(e.value)
    assert e.value.pos == pos
    if text:
        # the caret line sits under the offending character
        lines = str(e.value).splitlines()
        assert lines[-1].index("^") - 2 == pos
