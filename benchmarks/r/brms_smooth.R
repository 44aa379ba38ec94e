#!/usr/bin/env Rscript
## brms reference fits for smooth terms and Hilbert-space GPs (tests/test_smooth.py reads the numbers; tests
## never run R). Run from the repository root (takes a few minutes: three Stan models are compiled):
##
##     Rscript benchmarks/r/brms_smooth.R
##
## Produced with R 4.2.2, brms 2.18, rstan; 2 chains x 2000 iterations (1000 warm-up), seed 1.
## Writes tests/data/smooth/brms.json: posterior mean and 5%/95% quantiles of the SDs, sigma, the GP's
## parameters, and of the fitted curve (posterior_epred, population level) on a grid.
suppressPackageStartupMessages({ library(brms); library(jsonlite); library(MASS) })
rstan::rstan_options(boost_lib = "/usr/include")
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
out <- file.path(here, "..", "..", "tests", "data", "smooth", "brms.json")
sleep <- read.csv(file.path(here, "..", "..", "bayesmixed", "datasets", "data", "sleepstudy.csv"))
sleep$Subject <- factor(sleep$Subject)
q <- function(x) list(mean = mean(x), q05 = unname(quantile(x, 0.05)), q95 = unname(quantile(x, 0.95)))
summ <- function(fit, pars, grid, re = NA) {
  d <- as_draws_df(fit)
  e <- posterior_epred(fit, newdata = grid, re_formula = re)
  list(pars = setNames(lapply(pars, function(p) q(d[[p]])), pars),
       curve = list(mean = colMeans(e), q05 = apply(e, 2, quantile, 0.05), q95 = apply(e, 2, quantile, 0.95)))
}
ctl <- list(adapt_delta = 0.95)
mgrid <- data.frame(times = seq(2.4, 57.6, length.out = 12))
f1 <- brm(accel ~ s(times), data = mcycle, chains = 2, iter = 2000, seed = 1, refresh = 0, control = ctl)
f2 <- brm(Reaction ~ s(Days) + (1 | Subject), data = sleep, chains = 2, iter = 2000, seed = 1, refresh = 0, control = ctl)
f3 <- brm(accel ~ gp(times, k = 20, c = 5/4), data = mcycle, chains = 2, iter = 2000, seed = 1, refresh = 0, control = ctl)
ref <- list(
  mcycle = c(summ(f1, c("sds_stimes_1", "sigma", "b_Intercept", "bs_stimes_1"), mgrid), list(grid = mgrid$times)),
  sleepstudy = c(summ(f2, c("sds_sDays_1", "sd_Subject__Intercept", "sigma"), data.frame(Days = 0:9)), list(grid = 0:9)),
  mcycle_gp = c(summ(f3, c("sdgp_gptimes", "lscale_gptimes", "sigma", "b_Intercept"), mgrid),
                list(grid = mgrid$times, lscale_prior = as.character(prior_summary(f3)$prior[prior_summary(f3)$class == "lscale"])))
)
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE), out)
