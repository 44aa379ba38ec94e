# Fit one benchmark case with rstanarm or brms and write its summary.
#
# Called by benchmarks/runners/r_tools.py in a fresh Rscript process:
#
#   Rscript benchmarks/r/fit.R --tool rstanarm|brms --data FILE.csv \
#       --formula "y ~ x + (1 | g)" --family gaussian|binomial|poisson|zero_inflated_poisson (brms only) \
#       --factors g,h --chains 2 --warmup 1000 --draws 1000 --seed 1 \
#       --cores 2 --out DIR
#
# Writes into DIR:
#   summary.csv  population-level parameters (canonical names, see below) with
#                mean, sd, ess_bulk, ess_tail, rhat from the `posterior` package
#   draws.csv    the population-level draws (chain, draw, one column each)
#   stats.csv    key,value: timings, leapfrog steps, divergences, versions
#
# Canonical parameter names (shared with the Python side):
#   fixed effects  "Intercept", "Days", "period2", ...
#   group SDs      "sd(Intercept|Subject)"
#   correlations   "cor(Intercept,Days|Subject)"
#   residual SD    "sigma"; any other family auxiliary keeps its own name.
# Individual random effects are never included.

t_script <- proc.time()[["elapsed"]]

parse_args <- function(args) {
  opt <- list()
  i <- 1
  while (i <= length(args)) {
    key <- sub("^--", "", args[[i]])
    opt[[key]] <- args[[i + 1]]
    i <- i + 2
  }
  opt
}

opt <- parse_args(commandArgs(trailingOnly = TRUE))
tool <- opt$tool
chains <- as.integer(opt$chains)
warmup <- as.integer(opt$warmup)
draws <- as.integer(opt$draws)
seed <- as.integer(opt$seed)
cores <- as.integer(opt$cores)
out <- opt$out
dir.create(out, showWarnings = FALSE, recursive = TRUE)

stats <- list()
set_stat <- function(key, value) stats[[key]] <<- value

# ---------------------------------------------------------------- loading ---
t0 <- proc.time()[["elapsed"]]
suppressPackageStartupMessages({
  library(posterior)
  if (tool == "rstanarm") library(rstanarm) else library(brms)
})
# Debian's BH headers live in /usr/include; brms compiles models with rstan.
rstan::rstan_options(boost_lib = "/usr/include")
rstan::rstan_options(auto_write = FALSE)
set_stat("load_s", proc.time()[["elapsed"]] - t0)

data <- utils::read.csv(opt$data, stringsAsFactors = FALSE)
factors <- if (is.null(opt$factors) || opt$factors == "") character(0) else
  strsplit(opt$factors, ",", fixed = TRUE)[[1]]
for (f in factors) data[[f]] <- factor(as.character(data[[f]]))

if (tool == "rstanarm" && opt$family == "zero_inflated_poisson")
  stop("rstanarm has no zero-inflated family (fit this case with brms)")
family_fun <- switch(opt$family,
  zero_inflated_poisson = NULL,  # brms only
  gaussian = stats::gaussian(),
  binomial = stats::binomial(),
  bernoulli = stats::binomial(),
  poisson = stats::poisson(),
  cumulative = NULL,  # brms only (below)
  stop("unsupported family: ", opt$family)
)
form <- stats::as.formula(opt$formula)

# -------------------------------------------------------------------- fit ---
set_stat("load_before", tryCatch(as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1]),
                                 error = function(e) NA_real_))
cpu_time <- function() {
  p <- proc.time()
  sum(p[c("user.self", "sys.self", "user.child", "sys.child")], na.rm = TRUE)
}
cpu0 <- cpu_time()
t0 <- proc.time()[["elapsed"]]
if (tool == "rstanarm") {
  if (opt$family == "gaussian") {
    fit <- rstanarm::stan_lmer(form, data = data, chains = chains,
                               iter = warmup + draws, warmup = warmup,
                               seed = seed, cores = cores, refresh = 0)
  } else {
    fit <- rstanarm::stan_glmer(form, data = data, family = family_fun,
                                chains = chains, iter = warmup + draws,
                                warmup = warmup, seed = seed, cores = cores,
                                refresh = 0)
  }
  stanfit <- fit$stanfit
} else if (tool == "brms") {
  brms_family <- switch(opt$family,
    gaussian = brms::brmsfamily("gaussian"),
    binomial = brms::brmsfamily("binomial"),
    bernoulli = brms::brmsfamily("bernoulli"),
    poisson = brms::brmsfamily("poisson"),
    cumulative = brms::brmsfamily("cumulative"),  # rstanarm's stan_polr has no random effects: brms only
    zero_inflated_poisson = brms::brmsfamily("zero_inflated_poisson")  # zi ~ 1
  )
  fit <- brms::brm(form, data = data, family = brms_family, chains = chains,
                   iter = warmup + draws, warmup = warmup, seed = seed,
                   cores = cores, refresh = 0, silent = 2)
  stanfit <- fit$fit
} else {
  stop("unknown tool: ", tool)
}
set_stat("wall_s", proc.time()[["elapsed"]] - t0)
set_stat("cpu_s", cpu_time() - cpu0)  # reaped children (compiler, PSOCK workers) included

elapsed <- rstan::get_elapsed_time(stanfit)
set_stat("sampling_s", max(rowSums(elapsed)))  # chains run in parallel
set_stat("warmup_s_max_chain", max(elapsed[, "warmup"]))

# ------------------------------------------- population-level parameters ---
arr <- posterior::as_draws_array(as.array(stanfit))
vars <- posterior::variables(arr)
n_chains <- posterior::nchains(arr)
n_iter <- posterior::niterations(arr)

strip_paren <- function(x) ifelse(x == "(Intercept)", "Intercept", x)
pieces <- list()

if (tool == "rstanarm") {
  fixed_names <- names(rstanarm::fixef(fit))
  for (v in fixed_names) pieces[[strip_paren(v)]] <- posterior::extract_variable_matrix(arr, v)
  # Covariance entries Sigma[group:coef_i,coef_j] (lower triangle) -> SDs, correlations.
  sig <- grep("^Sigma\\[", vars, value = TRUE)
  inner <- sub("^Sigma\\[(.*)\\]$", "\\1", sig)
  left <- sub(",[^,]*$", "", inner)          # "group:coef_i"
  right <- sub("^.*,", "", inner)            # "coef_j"
  grp <- sub(":[^:]*$", "", left)
  ci <- sub("^.*:", "", left)
  diag_idx <- which(ci == right)
  sds <- list()
  for (k in diag_idx) {
    m <- sqrt(posterior::extract_variable_matrix(arr, sig[[k]]))
    key <- paste0(grp[[k]], "\r", ci[[k]])
    sds[[key]] <- m
    pieces[[sprintf("sd(%s|%s)", strip_paren(ci[[k]]), grp[[k]])]] <- m
  }
  for (k in setdiff(seq_along(sig), diag_idx)) {
    cov <- posterior::extract_variable_matrix(arr, sig[[k]])
    s1 <- sds[[paste0(grp[[k]], "\r", right[[k]])]]
    s2 <- sds[[paste0(grp[[k]], "\r", ci[[k]])]]
    name <- sprintf("cor(%s,%s|%s)", strip_paren(right[[k]]), strip_paren(ci[[k]]), grp[[k]])
    pieces[[name]] <- cov / (s1 * s2)
  }
  skip <- grepl("^(b\\[|Sigma\\[|mean_PPD|log-posterior|lp__|\\(Intercept\\)$)", vars) |
    vars %in% fixed_names
  for (v in vars[!skip]) pieces[[v]] <- posterior::extract_variable_matrix(arr, v)
} else {
  for (v in vars) {
    if (grepl("^b_", v)) {
      pieces[[sub("^b_", "", v)]] <- posterior::extract_variable_matrix(arr, v)
    } else if (grepl("^sd_", v)) {
      m <- regmatches(v, regexec("^sd_(.+)__(.+)$", v))[[1]]
      pieces[[sprintf("sd(%s|%s)", m[[3]], m[[2]])]] <- posterior::extract_variable_matrix(arr, v)
    } else if (grepl("^cor_", v)) {
      m <- regmatches(v, regexec("^cor_(.+)__(.+)__(.+)$", v))[[1]]
      pieces[[sprintf("cor(%s,%s|%s)", m[[3]], m[[4]], m[[2]])]] <- posterior::extract_variable_matrix(arr, v)
    } else if (!grepl("^(r_|z_|L_|lp__|lprior|Intercept|zi_Intercept|mu_|disc$)", v) && !grepl("\\[", v)) {
      pieces[[v]] <- posterior::extract_variable_matrix(arr, v)
    }
  }
}

# Draws as a long-format-friendly wide table: chain, draw, parameters...
wide <- data.frame(chain = rep(seq_len(n_chains), each = n_iter),
                   draw = rep(seq_len(n_iter), times = n_chains),
                   check.names = FALSE)
for (nm in names(pieces)) wide[[nm]] <- as.vector(pieces[[nm]])  # column-major: chain-major
utils::write.csv(wide, file.path(out, "draws.csv"), row.names = FALSE)

arr3 <- array(NA_real_, dim = c(n_iter, n_chains, length(pieces)),
              dimnames = list(NULL, NULL, names(pieces)))
for (j in seq_along(pieces)) arr3[, , j] <- pieces[[j]]
pop <- posterior::as_draws_array(arr3)
summ <- posterior::summarise_draws(pop, "mean", "sd", "ess_bulk", "ess_tail", "rhat")
summ <- data.frame(variable = summ$variable, mean = as.numeric(summ$mean),
                   sd = as.numeric(summ$sd), ess_bulk = as.numeric(summ$ess_bulk),
                   ess_tail = as.numeric(summ$ess_tail), rhat = as.numeric(summ$rhat),
                   check.names = FALSE)
utils::write.csv(summ, file.path(out, "summary.csv"), row.names = FALSE)

# ------------------------------------------------------- sampler statistics ---
sp <- rstan::get_sampler_params(stanfit, inc_warmup = FALSE)
set_stat("n_leapfrog", sum(vapply(sp, function(x) sum(x[, "n_leapfrog__"]), numeric(1))))
set_stat("divergent", sum(vapply(sp, function(x) sum(x[, "divergent__"]), numeric(1))))
set_stat("n_chains", n_chains)
set_stat("n_draws_per_chain", n_iter)
set_stat("version_tool", as.character(utils::packageVersion(tool)))
set_stat("version_rstan", as.character(utils::packageVersion("rstan")))
set_stat("version_posterior", as.character(utils::packageVersion("posterior")))
set_stat("version_R", paste(R.version$major, R.version$minor, sep = "."))
set_stat("script_s", proc.time()[["elapsed"]] - t_script)

st <- data.frame(key = names(stats), value = vapply(stats, as.character, character(1)))
utils::write.csv(st, file.path(out, "stats.csv"), row.names = FALSE)
