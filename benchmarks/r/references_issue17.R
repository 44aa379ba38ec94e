# Reference estimates for issue 17's model cards (printed as TOML fragments):
#   Rscript benchmarks/r/references_issue17.R bayesmixed/datasets/data [glmmTMB|brms|all]
# glmmTMB 1.1.5 (maximum likelihood, Laplace) on Salamanders: zero-inflated Poisson, zero-inflated NB (nbinom2)
# and hurdle Poisson (truncated_poisson with a zero formula), count ~ spp + mined + (1 | site), zi ~ 1.
# brms 2.18 (rstan, 4 chains x 2000 draws after 2000 warm-up, default priors) on kidney:
# time | cens(censored) ~ age + sex + disease + (1 | patient), Weibull and lognormal.
# The data are read as bayesmixed.datasets.load reads them (quoted columns are factors, levels alphabetical or
# numeric), so that the coefficients have the same names and reference levels.
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "bayesmixed/datasets/data"
which <- if (length(args) > 1) args[2] else "all"
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
nm <- function(x) sub("\\(Intercept\\)", "Intercept", x)
toml_tab <- function(key, v) {
  cat(key, " = { ", paste(sprintf('"%s" = %.5f', nm(names(v)), v), collapse = ", "), " }\n", sep = "")
}
if (which %in% c("glmmTMB", "all")) {
  suppressPackageStartupMessages(library(glmmTMB))
  sal <- rd("Salamanders.csv")
  fits <- list(
    salamanders_zip = glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = poisson, data = sal),
    salamanders_zinb = glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = nbinom2, data = sal),
    salamanders_hurdle = glmmTMB(count ~ spp + mined + (1 | site), zi = ~1, family = truncated_poisson, data = sal)
  )
  for (name in names(fits)) {
    f <- fits[[name]]
    cat(sprintf("## %s  (glmmTMB %s, ML/Laplace; logLik %.3f)\n", name, packageVersion("glmmTMB"), logLik(f)))
    toml_tab("fixef", fixef(f)$cond)
    toml_tab("fixef_se", sqrt(diag(vcov(f)$cond)))
    sd_site <- attr(VarCorr(f)$cond$site, "stddev")
    cat(sprintf('varcorr = [ { group = "site", term = "Intercept", kind = "sd", value = %.5f } ]\n', sd_site))
    zi <- plogis(fixef(f)$zi[[1]])
    aux <- c(zi = zi)
    if (name == "salamanders_hurdle") names(aux) <- "hu"
    if (family(f)$family == "nbinom2") aux <- c(aux, alpha = sigma(f))
    toml_tab("aux", aux)
    cat("\n")
  }
}
if (which %in% c("brms", "all")) {
  suppressPackageStartupMessages(library(brms))
  rstan::rstan_options(boost_lib = "/usr/include")
  kid <- rd("kidney.csv")
  for (fam in c("weibull", "lognormal")) {
    t0 <- proc.time()[["elapsed"]]
    f <- brm(time | cens(censored) ~ age + sex + disease + (1 | patient), data = kid, family = fam,
             chains = 4, iter = 4000, warmup = 2000, seed = 20261122, refresh = 0, cores = 1,
             control = list(adapt_delta = 0.95))
    el <- proc.time()[["elapsed"]] - t0
    dr <- as_draws_df(f)
    cols <- c(grep("^b_", names(dr), value = TRUE), "sd_patient__Intercept", if (fam == "weibull") "shape" else "sigma")
    np <- nuts_params(f)
    div <- sum(np$Value[np$Parameter == "divergent__"])
    cat(sprintf("## kidney_%s  (brms %s, rstan %s; 4 x 2000 draws; %d divergences; max Rhat %.4f; %.0f s)\n", fam,
                packageVersion("brms"), packageVersion("rstan"), div, max(rhat(f)[cols]), el))
    stats <- sapply(cols, function(c) {
      x <- dr[[c]]
      c(mean = mean(x), sd = sd(x), q05 = unname(quantile(x, 0.05)), q95 = unname(quantile(x, 0.95)))
    })
    lab <- sub("^b_", "", cols)
    lab[lab == "sd_patient__Intercept"] <- "sd_patient"
    colnames(stats) <- lab
    for (s in rownames(stats)) toml_tab(s, stats[s, ])
    cat("\n")
  }
}
