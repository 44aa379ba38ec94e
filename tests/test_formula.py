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
        ("y ~ x + (1 | h) + z | g", "nested inside", 16),
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


def test_bar_without_parentheses_is_lme4s_whole_right_hand_side():
    # lme4's findbars: '|' binds loosest, so the whole right-hand side is the random-effect term
    f = parse_formula("Yield ~ 1|Batch")
    assert f.intercept is True and f.terms == () and f.groups == (GroupTerm((Term(()),), ("Batch",), True),)
    f = parse_formula("Reaction ~ Days + 1 | Subject")
    assert f.terms == () and f.intercept is True  # the fixed part is the intercept alone, as lFormula builds it
    assert f.groups == (GroupTerm((Term(()), T("Days")), ("Subject",), True),)
    assert parse_formula("y ~ x || g").groups == (GroupTerm((Term(()), T("x")), ("g",), False),)


def test_named_arguments_and_namespaces():
    f = parse_formula("y ~ poly(x, 2, raw = TRUE) + splines::ns(z,3) + bs(w, knots = c(1, 2.5), degree = 2)")
    assert f.terms[0].factors[0] == Call("poly", (x, Num(2.0)), (("raw", Name("TRUE")),))
    assert f.terms[1].factors[0] == Call("splines::ns", (Name("z"), Num(3.0)))
    # labels are R's deparse(): how R names the model-matrix columns
    assert [t.label for t in f.terms] == ["poly(x, 2, raw = TRUE)", "splines::ns(z, 3)", "bs(w, knots = c(1, 2.5), degree = 2)"]
    with pytest.raises(FormulaError, match="unnamed arguments before the named"):
        parse_formula("y ~ poly(x, raw = TRUE, 2)")
    with pytest.raises(FormulaError, match="given twice"):
        parse_formula("y ~ bs(x, df = 3, df = 4)")


def test_labels_are_r_deparse():
    f = parse_formula("y ~ log(1+Days) + I(age-11) + sin(2*pi*Time) + I(x/2) + I(x^2) + I(-x) + I(100000*x) + I(0.0001*x)")
    assert [t.label for t in f.terms] == [
        "log(1 + Days)", "I(age - 11)", "sin(2 * pi * Time)", "I(x/2)", "I(x^2)", "I(-x)", "I(1e+05 * x)", "I(1e-04 * x)",
    ]


def test_interaction_variables_in_formula_order():
    # R names an interaction by the order in which its variables first appear in the formula
    assert parse_formula("cog ~ tos + trt:tos").terms[1].label == "tos:trt"
    assert parse_formula("y ~ poly(age, 2) + ch + age:ch").terms[-1].label == "ch:age"
    assert parse_formula("y ~ b:a + a").terms[1].label == "b:a"
    # random-effect terms order by their own left-hand side
    assert parse_formula("y ~ a + (b + b:a | g)").groups[0].terms[2].label == "b:a"


def test_nested_terms_order_levels_as_lme4():
    f = parse_formula("y ~ (1 | a/b/c) + (1 | a:b)")
    assert [(g.factor, g.level_order) for g in f.groups] == [
        (("a",), None), (("a", "b"), (1, 0)), (("a", "b", "c"), (2, 1, 0)), (("a", "b"), None),
    ]
    # the level order is not part of a term's identity
    assert f.groups[1] == f.groups[3]


def test_string_arguments():
    from bayesmixed.formula import Str

    f = parse_formula("y ~ (0 + dummy(Sex, 'Female') | Subject)")
    assert f.groups[0].terms[0].factors[0] == Call("dummy", (Name("Sex"), Str("Female")))
    assert f.groups[0].terms[0].label == 'dummy(Sex, "Female")'  # R deparses with double quotes
    with pytest.raises(FormulaError, match="unterminated string"):
        parse_formula('y ~ dummy(f, "a)')
    with pytest.raises(FormulaError, match="is not a term"):
        parse_formula('y ~ x + "a"')
