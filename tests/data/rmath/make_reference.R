#!/usr/bin/env Rscript
## Reference numbers of R's poly(), contr.*(), splines::ns()/bs()/splineDesign() and qr() for
## tests/test_rmath.py, including predictions on new data beyond the boundary knots (which the lFormula
## conformance suite does not reach). Run from the repository root (R with splines and jsonlite):
##
##     Rscript tests/data/rmath/make_reference.R
##
## Produced with R 4.2.2. Writes tests/data/rmath/reference.json next to this script.
suppressPackageStartupMessages({ library(splines); library(jsonlite) })
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
set.seed(3)
x <- round(runif(40, 0, 10), 2)
xnew <- c(-2, 0, 0.5, 5, 9.99, 11, 13)
p3 <- poly(x, 3)
ns4 <- ns(x, df = 4)
ns2i <- ns(x, df = 3, intercept = TRUE)
nsb <- ns(x, knots = c(2, 5), Boundary.knots = c(1, 9))
bs5 <- bs(x, df = 5)
bsk <- bs(x, knots = c(3, 6), degree = 2)
bs1 <- bs(x, degree = 1, df = 3)
bsi <- bs(x, df = 6, intercept = TRUE)
pred <- function(b) suppressWarnings(unclass(predict(b, xnew))[, , drop = FALSE])
mat <- function(b) unclass(b)[, , drop = FALSE]
basis <- function(b) list(fit = mat(b), new = pred(b), knots = as.numeric(attr(b, "knots")),
                          boundary = as.numeric(attr(b, "Boundary.knots")))
X1 <- cbind(1, x, 2 * x + 1, x^2)                       # third column aliased
X2 <- cbind(1, x, 0, x^2, x)                             # a zero column and a duplicate
X3 <- model.matrix(~ a * b, expand.grid(a = factor(1:3), b = factor(1:3))[-9, ])  # an empty cell
qrs <- lapply(list(X1, X2, X3), function(M) { q <- qr(M); list(x = unname(M), rank = q$rank, pivot = q$pivot) })
out <- list(
  x = x, xnew = xnew,
  poly = list(fit = unclass(p3)[, ], new = unclass(predict(p3, xnew))[, ],
              alpha = attr(p3, "coefs")$alpha, norm2 = attr(p3, "coefs")$norm2),
  poly_raw = unclass(poly(x, 2, raw = TRUE))[, ],
  contr_poly = lapply(2:8, function(n) unname(contr.poly(n))),
  contr_helmert = unname(contr.helmert(5)), contr_sum = unname(contr.sum(5)), contr_SAS = unname(contr.SAS(4)),
  ns4 = basis(ns4), ns_intercept = basis(ns2i), ns_boundary = basis(nsb),
  bs5 = basis(bs5), bs_knots = basis(bsk), bs_linear = basis(bs1), bs_intercept = basis(bsi),
  spline_design = list(knots = c(0, 0, 0, 0, 1, 2, 3, 3, 3, 3), x = c(0, 0.5, 1, 2.5, 3),
                       d0 = splineDesign(c(0, 0, 0, 0, 1, 2, 3, 3, 3, 3), c(0, 0.5, 1, 2.5, 3), 4),
                       d1 = splineDesign(c(0, 0, 0, 0, 1, 2, 3, 3, 3, 3), c(0, 0.5, 1, 2.5, 3), 4, 1),
                       d2 = splineDesign(c(0, 0, 0, 0, 1, 2, 3, 3, 3, 3), c(0, 0.5, 1, 2.5, 3), 4, 2)),
  qr = qrs
)
writeLines(toJSON(out, digits = NA, matrix = "rowmajor"), file.path(here, "reference.json"))
