#!/usr/bin/env Rscript
## Reference fits for tests/test_smooth.py and tests/test_autocor.py: gamm4 (smooth terms as mixed models, REML)
## on MASS's mcycle and lme4's sleepstudy, and nlme::lme with AR(1) residuals on nlme's Ovary. Run from the
## repository root:
##
##     Rscript tests/data/smooth/make_fits.R
##
## Produced with R 4.2.2, mgcv 1.8-41, gamm4 0.2-6, nlme 3.1. Writes tests/data/smooth/fits.json and the data
## sets mcycle.csv and Ovary.csv into bayesmixed/datasets/data.
suppressPackageStartupMessages({ library(gamm4); library(nlme); library(jsonlite); library(MASS) })
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
datadir <- file.path(here, "..", "..", "..", "bayesmixed", "datasets", "data")
sleep <- read.csv(file.path(datadir, "sleepstudy.csv"))
sleep$Subject <- factor(sleep$Subject)
write.csv(mcycle, file.path(datadir, "mcycle.csv"), row.names = FALSE)
ov <- data.frame(Mare = as.character(Ovary$Mare), Time = Ovary$Time, follicles = Ovary$follicles)
write.csv(ov, file.path(datadir, "Ovary.csv"), row.names = FALSE)

curve <- function(g, new) {
  p <- predict(g$gam, newdata = new, se.fit = TRUE)
  list(fit = as.numeric(p$fit), se = as.numeric(p$se.fit))
}
sd_of <- function(g, name = "Xr") sqrt(as.numeric(VarCorr(g$mer)[[name]]))
mgrid <- data.frame(times = seq(2.4, 57.6, length.out = 12))
g1 <- gamm4(accel ~ s(times), data = mcycle)
g1cr <- gamm4(accel ~ s(times, bs = "cr"), data = mcycle)
sgrid <- data.frame(Days = 0:9)
g2 <- gamm4(Reaction ~ s(Days), random = ~ (1 | Subject), data = sleep)
ovfit <- lme(follicles ~ sin(2 * pi * Time) + cos(2 * pi * Time), random = ~ 1 | Mare, data = Ovary,
             correlation = corAR1())
iv <- intervals(ovfit, level = 0.9)
ref <- list(
  mcycle = list(grid = mgrid$times, sd = sd_of(g1), sigma = sigma(g1$mer), fixef = unname(fixef(g1$mer)),
                curve = curve(g1, mgrid), sd_cr = sd_of(g1cr), sigma_cr = sigma(g1cr$mer), curve_cr = curve(g1cr, mgrid)),
  sleepstudy = list(grid = sgrid$Days, sd = sd_of(g2), sd_subject = sd_of(g2, "Subject"), sigma = sigma(g2$mer),
                    curve = curve(g2, sgrid)),
  ovary = list(fixef = unname(fixef(ovfit)), fixef_names = names(fixef(ovfit)),
               fixef_lower = unname(iv$fixed[, 1]), fixef_upper = unname(iv$fixed[, 3]),
               phi = unname(coef(ovfit$modelStruct$corStruct, unconstrained = FALSE)),
               phi_interval = unname(iv$corStruct[1, ]), sigma = ovfit$sigma, sigma_interval = unname(iv$sigma),
               sd_mare = as.numeric(VarCorr(ovfit)[1, 2]))
)
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE), file.path(here, "fits.json"))
