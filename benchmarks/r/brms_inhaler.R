# brms 2.18 reference fits of the inhaler data (sratio, cratio, acat; logit link) for bayesmixed's model cards
# (issue 17), printed as TOML fragments: posterior means, SDs and 90% / 95% intervals.
#   Rscript benchmarks/r/brms_inhaler.R bayesmixed/datasets/data > /tmp/brms_inhaler.txt
# 4 chains x 2000 draws after 1000 warmup, seed 1234; brms's default priors (flat on b, student_t(3, 0, 2.5) on
# the thresholds and the SD).
suppressPackageStartupMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include")
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "bayesmixed/datasets/data"
h <- read.csv(file.path(dir, "inhaler.csv"))
h$subject <- factor(h$subject)
num <- function(x) sprintf("%.4f", x)
for (fam in c("sratio", "cratio", "acat")) {
  t0 <- proc.time()
  f <- brm(rating ~ treat + period + carry + (1 | subject), data = h, family = get(fam)(),
           chains = 4, iter = 3000, warmup = 1000, cores = 1, seed = 1234, refresh = 0, silent = 2)
  el <- (proc.time() - t0)[["elapsed"]]
  dr <- as_draws_df(f)
  pars <- c(grep("^b_", names(dr), value = TRUE), "sd_subject__Intercept")
  cat(sprintf("## inhaler, %s logit  (brms %s, 4 chains x 2000 after 1000 warmup, seed 1234, %.0f s; max Rhat %.3f; divergences %d)\n",
              fam, packageVersion("brms"), el, max(rhat(f), na.rm = TRUE), sum(nuts_params(f)$Value[nuts_params(f)$Parameter == "divergent__"])))
  for (p in pars) {
    x <- dr[[p]]
    q <- quantile(x, c(0.025, 0.05, 0.95, 0.975))
    name <- if (p == "sd_subject__Intercept") "sd(subject:Intercept)" else sub("^b_Intercept\\[(\\d+)\\]", "Intercept[\\1]", sub("^b_", "", p))
    cat(sprintf('"%s" = { mean = %s, sd = %s, "q2.5" = %s, q5 = %s, q95 = %s, "q97.5" = %s }\n', name, num(mean(x)),
                num(sd(x)), num(q[1]), num(q[2]), num(q[3]), num(q[4])))
  }
  cat("\n")
}
