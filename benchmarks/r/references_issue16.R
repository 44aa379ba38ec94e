# lme4 reference estimates for the model cards added with issue 16 (printed as TOML fragments):
#   Rscript benchmarks/r/references_issue16.R bayesmixed/datasets/data
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "bayesmixed/datasets/data"
rd <- function(f) {
  # quoted columns are factors (as bayesmixed.datasets.load reads them), in numeric order when numeric-looking
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
card <- function(name, fit, method) {
  cat(sprintf("## %s  (%s, lme4 %s)\n", name, method, packageVersion("lme4")))
  fe <- fixef(fit)
  cat("fixef = { ", paste(sprintf('"%s" = %.4f', names(fe), fe), collapse = ", "), " }\n", sep = "")
  vc <- as.data.frame(VarCorr(fit))
  cat("varcorr = [\n")
  for (i in seq_len(nrow(vc))) {
    r <- vc[i, ]
    if (r$grp == "Residual") {
      cat(sprintf('  { group = "Residual", term = "", kind = "sd", value = %.4f },\n', r$sdcor))
    } else if (is.na(r$var2)) {
      cat(sprintf('  { group = "%s", term = "%s", kind = "sd", value = %.4f },\n', r$grp,
                  sub("\\(Intercept\\)", "Intercept", r$var1), r$sdcor))
    } else {
      cat(sprintf('  { group = "%s", term = "%s:%s", kind = "corr", value = %.4f },\n', r$grp,
                  sub("\\(Intercept\\)", "Intercept", r$var1), r$var2, r$sdcor))
    }
  }
  cat("]\n\n")
}
t0 <- proc.time()
gpa <- rd("schools_gpa.csv")
card("schools_gpa", lmer(gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student), gpa),
     "lmer, REML")
it <- rd("items_bernoulli.csv")
card("items_bernoulli", glmer(correct ~ freq + type + age + (1 | person) + (1 | item), it, family = binomial),
     "glmer, Laplace")
ep <- rd("epilepsy.csv")
card("epilepsy", glmer(count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs), ep, family = poisson),
     "glmer, Laplace")
cb <- rd("cbpp.csv")
card("cbpp_obs", glmer(cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | obs), cb, family = binomial),
     "glmer, Laplace")
gt <- rd("grouseticks.csv")
card("grouseticks", glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX), gt, family = poisson),
     "glmer, Laplace")
