# Reference estimates for the ordinal and distributional model cards of issue 17 (printed as TOML fragments):
#   Rscript benchmarks/r/references_ordinal.R bayesmixed/datasets/data > /tmp/references_ordinal.txt
# wine: ordinal::clmm (Laplace); radon with sigma ~ factor(floor): glmmTMB (ML, dispformula, which models
# log(sigma^2): the sigma coefficients are half of glmmTMB's dispersion coefficients).
suppressPackageStartupMessages({library(ordinal); library(glmmTMB)})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "bayesmixed/datasets/data"
rd <- function(f) {
  p <- file.path(dir, f)
  hdr <- scan(p, what = "", sep = ",", nlines = 1, quiet = TRUE)
  first <- strsplit(readLines(p, n = 2)[2], ",")[[1]]
  quoted <- startsWith(first, '"')
  d <- read.csv(p, colClasses = ifelse(quoted, "character", NA))
  for (v in hdr[quoted]) {
    u <- unique(d[[v]])
    lev <- if (all(!is.na(suppressWarnings(as.numeric(u))))) u[order(as.numeric(u))] else sort(u)
    d[[v]] <- factor(d[[v]], levels = lev)
  }
  d
}
num <- function(x) sprintf("%.4f", x)
w <- rd("wine.csv")
w$rating <- factor(w$rating, ordered = TRUE)
for (lk in c("logit", "probit")) {
  f <- clmm(rating ~ temp + contact + (1 | judge), data = w, link = lk, nAGQ = 10)
  cat(sprintf("## wine, cumulative %s  (ordinal %s, clmm, adaptive Gauss-Hermite nAGQ = 10)\n", lk,
              packageVersion("ordinal")))
  th <- f$alpha
  be <- f$beta
  cat("fixef = { ", paste(c(sprintf('"Intercept[%d]" = %s', seq_along(th), num(th)),
                          sprintf('%s = %s', names(be), num(be))), collapse = ", "), " }\n", sep = "")
  se <- sqrt(diag(vcov(f)))
  cat("# standard errors: ", paste(sprintf("%s %s", names(se), num(se)), collapse = ", "), "\n", sep = "")
  cat(sprintf('varcorr = [ { group = "judge", term = "Intercept", kind = "sd", value = %s } ]\n\n',
              num(attr(VarCorr(f)$judge, "stddev"))))
}
r <- rd("radon.csv")
g <- glmmTMB(log_radon ~ floor + (1 | county), dispformula = ~ factor(floor), data = r, REML = FALSE)
cat(sprintf("## radon, sigma ~ factor(floor)  (glmmTMB %s, ML; dispformula models log(sigma^2))\n",
            packageVersion("glmmTMB")))
b <- fixef(g)$cond
d <- fixef(g)$disp
cat("# glmmTMB dispersion coefficients (log sigma^2): ", paste(sprintf("%s %s", names(d), num(d)), collapse = ", "), "\n")
cat("fixef = { ", paste(c(sprintf("%s = %s", sub("\\(Intercept\\)", "Intercept", names(b)), num(b)),
                        sprintf('"sigma_%s" = %s', sub("\\(Intercept\\)", "Intercept", names(d)), num(d / 2))),
                      collapse = ", "), " }\n", sep = "")
cat(sprintf('varcorr = [ { group = "county", term = "Intercept", kind = "sd", value = %s } ]\n',
            num(attr(VarCorr(g)$cond$county, "stddev"))))
