# Reference numbers for bayesmixed's emmeans() on cbpp (tests/test_interpret.py reads them from
# models/cbpp.toml, [reference.emmeans]). Run from the repository root:
#
#   Rscript benchmarks/r/emmeans_cbpp.R
#
# and paste its output (TOML) into models/cbpp.toml. lme4's glmer (Laplace) and emmeans: estimated marginal
# means of period on the response scale (probabilities, back-transformed from the logit scale), on the link
# scale, and pairwise contrasts: on the link scale (log odds ratios, pairs(emmeans(m, ~period))) and as
# differences of probabilities (pairs(regrid(emmeans(m, ~period)))).
suppressPackageStartupMessages({ library(lme4); library(emmeans) })
data(cbpp, package = "lme4")
m <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp)
emm <- emmeans(m, ~period)
resp <- summary(emmeans(m, ~period, type = "response"))
link <- summary(emm)
pl <- summary(pairs(emm))
pr <- summary(pairs(regrid(emm)))
v <- function(x) paste0("[", paste(sprintf("%.6f", x), collapse = ", "), "]")
s <- function(x) paste0("[", paste(sprintf('"%s"', x), collapse = ", "), "]")
cat("[reference.emmeans]\n")
cat(sprintf('source = "R %s, lme4 %s, emmeans %s: benchmarks/r/emmeans_cbpp.R"\n', getRversion(),
            packageVersion("lme4"), packageVersion("emmeans")))
cat("level = ", s(as.character(resp$period)), "\n", sep = "")
cat("prob = ", v(resp$prob), "\n", sep = "")
cat("prob_se = ", v(resp$SE), "\n", sep = "")
cat("link = ", v(link$emmean), "\n", sep = "")
cat("link_se = ", v(link$SE), "\n", sep = "")
cat("contrast = ", s(as.character(pl$contrast)), "\n", sep = "")
cat("link_diff = ", v(pl$estimate), "\n", sep = "")
cat("link_diff_se = ", v(pl$SE), "\n", sep = "")
cat("prob_diff = ", v(pr$estimate), "\n", sep = "")
cat("prob_diff_se = ", v(pr$SE), "\n", sep = "")
