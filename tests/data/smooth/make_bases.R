#!/usr/bin/env Rscript
## Reference numbers of mgcv's smooth constructions (smoothCon with absorb.cons = TRUE, then smooth2random, as
## gamm4 and brms build them) for tests/test_smooth.py: the fixed part Xf, the random-effect design Xr, and both
## on new data (PredictMat, then the same reparameterisation). Run from the repository root:
##
##     Rscript tests/data/smooth/make_bases.R
##
## Produced with R 4.2.2, mgcv 1.8-41. Writes tests/data/smooth/bases.json next to this script.
suppressPackageStartupMessages({ library(mgcv); library(jsonlite); library(MASS) })
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
sleep <- read.csv(file.path(here, "..", "..", "..", "bayesmixed", "datasets", "data", "sleepstudy.csv"))
set.seed(7)
sim <- data.frame(x = round(runif(60, 0, 10), 1), z = runif(60, -1, 1),
                  f = factor(sample(c("a", "b", "c"), 60, TRUE)))
one <- function(term, data, new) {
  sm <- smoothCon(term, data = data, absorb.cons = TRUE)
  out <- list()
  for (i in seq_along(sm)) {
    s <- sm[[i]]
    re <- smooth2random(s, names(data), type = 2)
    U <- if (is.null(re$trans.U)) diag(length(re$trans.D)) else re$trans.U
    UD <- t(t(U) * re$trans.D)
    Xn <- PredictMat(s, new) %*% UD
    nf <- ncol(re$Xf)
    pen <- if (is.null(re$pen.ind)) seq_len(ncol(UD) - nf) else which(re$pen.ind > 0)
    fixed <- setdiff(seq_len(ncol(UD)), pen)
    rand <- lapply(re$rand, function(r) matrix(as.numeric(r), nrow(r)))
    pi <- if (is.null(re$pen.ind)) rep(1, length(pen)) else re$pen.ind[pen]
    out[[i]] <- list(label = s$label, Xf = unname(re$Xf), Xr = unname(lapply(rand, unname)),
                     Xf_new = unname(Xn[, fixed, drop = FALSE]),
                     Xr_new = lapply(sort(unique(pi)), function(j) unname(Xn[, pen[pi == j], drop = FALSE])),
                     S_scale = s$S.scale, knots = if (!is.null(s$xp)) s$xp else NULL)
  }
  out
}
mnew <- data.frame(times = c(1, 2.4, 10.5, 30, 57.6, 60))
snew <- data.frame(Days = c(-1, 0, 2.5, 9, 11))
xnew <- data.frame(x = c(-1, 0, 3.33, 10, 11), z = c(-1, 0.2, 0.5, 1, 1.5), f = factor(c("a", "b", "c", "a", "b"), levels = c("a", "b", "c")))
ref <- list(
  mcycle = list(x = mcycle$times, new = mnew$times,
                tp = one(s(times), mcycle, mnew), cr = one(s(times, bs = "cr"), mcycle, mnew),
                tp5 = one(s(times, k = 5), mcycle, mnew), cr20 = one(s(times, bs = "cr", k = 20), mcycle, mnew)),
  sleep = list(x = sleep$Days, new = snew$Days, tp = one(s(Days), sleep, snew), cr = one(s(Days, bs = "cr"), sleep, snew),
               tp4 = one(s(Days, k = 4), sleep, snew)),
  sim = list(x = sim$x, z = sim$z, f = as.character(sim$f), new_x = xnew$x, new_z = xnew$z, new_f = as.character(xnew$f),
             tp = one(s(x, k = 6), sim, xnew), by = one(s(x, by = f, k = 5), sim, xnew),
             bycr = one(s(x, by = f, bs = "cr", k = 5), sim, xnew),
             t2 = one(t2(x, z), sim, xnew), t2tp = one(t2(x, z, bs = "tp", k = 4), sim, xnew))
)
writeLines(toJSON(ref, digits = NA, matrix = "rowmajor", auto_unbox = TRUE, null = "null"), file.path(here, "bases.json"))
