#!/usr/bin/env Rscript
## Reference output of lme4's lFormula()/glFormula() for tests/test_lformula_conformance.py.
##
## Run from the repository root (R with lme4, mlmRev, nlme, brms, rstanarm, jsonlite, digest):
##
##     Rscript tests/data/lformula/make_reference.R /path/to/lmerTestR
##
## The argument is a checkout of https://github.com/runehaubo/lmerTestR (its data/*.rda: ham, carrots, TVbo;
## lmerTest itself need not be installed). Writes, next to this script:
##   reference.json       one entry per formula: rows used, X (names, values or checksums, dropped columns),
##                        response and offset checksums, per random-effect term its factor, levels, columns
##                        (with checksums of the raw columns) and number of covariance parameters
##   data/<name>.csv.gz   the columns of each data set that the formulas use (numbers at 17 digits, NA empty)
##   data/columns.json    per data set and column: R type, factor levels in order, ordered or not
## Every formula is taken from lme4's, mlmRev's, lmerTest's, rstanarm's or brms's tests, help pages or
## vignettes (the `source` field says where); simulated data are generated as those tests generate them.
## Produced with R 4.2.2, lme4 1.1-31, mlmRev 1.0-8.

suppressPackageStartupMessages({
  library(lme4); library(mlmRev); library(splines); library(jsonlite); library(digest)
})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
lmertest <- commandArgs(trailingOnly = TRUE)[1]
if (is.na(lmertest)) stop("give the path of a lmerTestR checkout (for its data/*.rda)")
for (f in c("ham", "carrots", "TVbo")) load(file.path(lmertest, "data", paste0(f, ".rda")))

## ------------------------------------------------------------------------------------------- data sets
nlme_data <- function(name) { e <- new.env(); data(list = name, package = "nlme", envir = e); as.data.frame(e[[name]]) }
pkg_data <- function(name, pkg) { e <- new.env(); data(list = name, package = pkg, envir = e); as.data.frame(e[[name]]) }

DATA <- list(
  sleepstudy = function() sleepstudy,
  sleepstudyNA = function() { d <- sleepstudy; d$Reaction[1:3] <- NA; d },           # lme4 test-NAhandling.R
  cbpp = function() transform(cbpp, obs = seq_len(nrow(cbpp))),                         # ?cbpp, glmer-1.R
  cbpp_silly = function() { d <- cbpp; names(d)[names(d) == "period"] <- "silly period"; d },  # lme4 tests/glmmExt? (backticked names)
  cake = function() cake,
  cake2 = function() { d <- cake; d$temperature <- factor(d$temperature, ordered = FALSE); d },  # lmerTest test_anova.R
  cake4 = function() {                                                                  # lmerTest test_anova.R
    d <- cake; d$temp0 <- d$temp - mean(d$temp)
    droplevels(subset(d, !(recipe == "A" & temperature == "175")))
  },
  cakeNA = function() { d <- cake; d$temp[1:5] <- NA; d },                              # lme4 test-NAhandling.R
  Dyestuff = function() Dyestuff, Dyestuff2 = function() Dyestuff2,
  Pastes = function() Pastes, Penicillin = function() Penicillin,
  InstEval = function() InstEval, VerbAgg = function() VerbAgg,
  grouseticks = function() grouseticks, Arabidopsis = function() Arabidopsis,
  Contraception = function() within(Contraception, ch <- factor(ifelse(livch != 0, "Y", "N"))),  # lme4 glmer vignette
  Exam = function() Exam, ScotsSec = function() ScotsSec, Oxboys = function() mlmRev::Oxboys,
  egsingle = function() egsingle, Chem97 = function() Chem97, star = function() star,
  Early = function() transform(Early, tos = age - 0.5),                                 # lme4 tests/lmer2_ex.R
  guImmun = function() guImmun, Hsb82 = function() Hsb82, Mmmec = function() Mmmec, Gcsemv = function() Gcsemv,
  Orthodont = function() {                                                              # ?lmer, lme4 tests
    d <- nlme_data("Orthodont")
    d$nsex <- as.numeric(d$Sex == "Male"); d$nsexage <- with(d, nsex * age); d
  },
  Ovary = function() nlme_data("Ovary"), Machines = function() nlme_data("Machines"),
  mtcars = function() mtcars, iris = function() iris,
  epilepsy = function() pkg_data("epilepsy", "brms"), inhaler = function() pkg_data("inhaler", "brms"),
  kidney = function() pkg_data("kidney", "brms"),
  radon = function() pkg_data("radon", "rstanarm"), bball1970 = function() pkg_data("bball1970", "rstanarm"),
  ham = function() ham, carrots = function() carrots, TVbo = function() TVbo,
  rank1 = function() {                                     # lme4 tests/testthat/test-rank.R, "lmerRank"
    set.seed(101); n <- 20; x <- y <- rnorm(n)
    data.frame(x, y, z = rnorm(n), r = sample(1:5, size = n, replace = TRUE), y2 = y + c(0.001, rep(0, n - 1)))
  },
  rank2 = function() {                                     # lme4 tests/testthat/test-rank.R, "lmerRank" d2
    set.seed(101); n <- 20; x <- rnorm(n); rnorm(n); sample(1:5, size = n, replace = TRUE)
    d2 <- expand.grid(a = factor(1:4), b = factor(1:4), rep = 1:10)
    n <- nrow(d2)
    d2 <- transform(d2, r = sample(1:5, size = n, replace = TRUE), z = rnorm(n))
    subset(d2, !(a == "4" & b == "4"))
  },
  formX = function() {                                     # lme4 tests/testthat/test-formulaEval.R
    set.seed(101); n <- 50
    x <- rbinom(n, 1, 1/2); y <- rnorm(n); z <- rnorm(n); r <- sample(1:5, size = n, replace = TRUE)
    data.frame(x, y, z, r)
  },
  factors = function() {                                   # lme4 tests/testthat/test-factors.R
    set.seed(101)
    data.frame(x = runif(1000), y = runif(1000), f1 = rep(1:10, each = 100), f2 = rep(1:10, 100))
  },
  basis = function() {                                     # lme4 tests/predict_basis.R
    set.seed(101)
    data.frame(y = rbinom(10, size = 1, prob = 0.5), x = 1:10, f = factor(rep(1:5, each = 2)))
  },
  pois = function() {                                      # lme4 tests/glmer-1.R, rPoisGLMMi(12, 20)
    set.seed(1); ng <- 12; nr <- 20; ntot <- nr * ng
    b.reff <- rnorm(ng); b.rind <- rnorm(ntot, sd = 0.5); x <- runif(ntot)
    d <- data.frame(x, f = factor(rep(LETTERS[1:ng], each = nr)), obs = 1:ntot)
    d$y <- rpois(ntot, exp(1 + 2 * x + b.reff[d$f] + b.rind[d$obs])); d
  },
  lmer1 = function() {                                     # lme4 tests/testthat/test-lmer.R, "lmer"
    set.seed(101)
    data.frame(z = rnorm(200), f = factor(sample(1:10, 200, replace = TRUE)))
  },
  dvert = function() {                                     # lme4 tests/testthat/test-doubleVertNotation.R style
    set.seed(101); n <- 200
    d <- data.frame(X = rnorm(n), Z = rnorm(n), group = factor(sample(letters[1:10], n, replace = TRUE)))
    d$Y <- with(d, X + Z + X * Z + rnorm(n)); d
  }
)

## ------------------------------------------------------------------------------------------- formulas
CASES <- list()
C <- function(data, formula, source, family = NULL, weights = NULL, contrasts = NULL) {
  CASES[[length(CASES) + 1L]] <<- list(data = data, formula = formula, source = source, family = family,
                                       weights = weights, contrasts = contrasts)
}
## lme4: help pages, vignettes, tests
C("sleepstudy", "Reaction ~ Days + (Days | Subject)", "lme4 ?sleepstudy, ?lmer")
C("sleepstudy", "Reaction ~ Days + (1|Subject) + (0+Days|Subject)", "lme4 ?lmer")
C("sleepstudy", "Reaction ~ Days + (Days || Subject)", "lme4 ?lmer")
C("sleepstudy", "Reaction ~ 1 + (1|Subject)", "lme4 tests/lmer-1.R")
C("sleepstudy", "Reaction ~ 1 + Days + (1 + Days | Subject)", "lme4 tests")
C("sleepstudy", "Reaction ~ (Days + I(Days^2) | Subject)", "lme4 tests (lFormula)")
C("sleepstudy", "Reaction ~ Days + (Days|Subject) + offset(0.5*Days)", "lme4 tests/modFormula.R")
C("sleepstudy", "Reaction ~ log(1+Days) + (1 | Subject)", "lme4 tests")
C("sleepstudy", "log(Reaction) ~ log(Days+1) + (log(Days+1)|Subject)", "lme4 tests")
C("sleepstudy", "Reaction ~ ns(Days,2) + (1|Subject)", "lme4 tests/predict_basis.R")
C("sleepstudy", "Reaction ~ poly(Days,2) + (1|Subject)", "lme4 tests/predict_basis.R")
C("sleepstudy", "Reaction ~ poly(Days,2,raw=TRUE) + (1|Subject)", "lme4 tests/predict_basis.R")
C("sleepstudy", "log(Reaction) ~ splines::ns(Days,3) + I(1+Days^3) + (Days|Subject)", "lme4 tests/testthat/test-formulaEval.R")
C("sleepstudy", "Reaction ~ Days + (1 | Subject)", "lme4 ?lmer")
C("sleepstudy", "Reaction ~ Days + ( 1 | Subject)", "lme4 ?lmer (fm0)")
C("sleepstudy", "Reaction~Days+(Days|Subject)", "lme4 ?getME")
C("sleepstudy", "Reaction ~ 1|Subject", "lme4 tests (bar without parentheses)")
C("sleepstudy", "Reaction ~ Days + 1|Subject", "lme4 findbars semantics: y ~ x + 1 | g")
C("sleepstudy", "round(Reaction) ~ Days + (1|Subject)", "lme4 tests/nbinom.R, ?glmer.nb", family = "poisson")
C("sleepstudy", "round(Reaction) ~ Days + (1 + Days | Subject)", "lme4 tests/testthat/test-glmer.R", family = "poisson")
C("sleepstudy", "round(Reaction) ~ 1 + (1|Subject)", "lme4 tests/testthat/test-glmer.R", family = "poisson")
C("sleepstudy", "Reaction > 250 ~ Days + (1|Subject)", "lme4 tests/testthat/test-glmer.R", family = "binomial")
C("sleepstudyNA", "Reaction ~ Days + (1|Subject)", "lme4 tests/testthat/test-NAhandling.R")
C("cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)", "lme4 ?cbpp, ?glmer", family = "binomial")
C("cbpp", "incidence / size ~ period + (1 | herd)", "lme4 ?glmer, tests/glmer-1.R", family = "binomial", weights = "size")
C("cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd) + (1|obs)", "lme4 ?glmer", family = "binomial")
C("cbpp", "cbind(incidence, size-incidence) ~ 1 + (1|herd)", "lme4 tests/glmer-1.R", family = "binomial")
C("cbpp", "incidence ~ period + (1|herd)", "lme4 tests/testthat/test-lmer.R")
C("cbpp", "cbind(incidence, size - incidence) ~ size + period + (1|herd)", "rstanarm ?stan_glmer", family = "binomial")
C("cbpp_silly", "cbind(incidence,size-incidence) ~ `silly period` + (1|herd)", "lme4 tests (non-syntactic names)", family = "binomial")
C("cake", "angle ~ recipe * temperature + (1|recipe:replicate)", "lme4 ?cake")
C("cake", "angle ~ recipe + temperature + (1|recipe:replicate)", "lme4 ?cake")
C("cake", "angle ~ recipe + temp + (1|recipe:replicate)", "lme4 ?cake")
C("cake", "angle ~ recipe + temp + temperature + (1|recipe:replicate)", "lmerTest tests/test_lmer.R (rank deficient)")
C("cake", "angle ~ temp + recipe + (1 | replicate)", "lme4 tests")
C("cake", "angle ~ recipe * temp + (1|recipe:replicate)", "lmerTest tests/test_anova.R")
C("cake", "angle ~ 0 + recipe * temp + (1|recipe:replicate)", "lmerTest tests/test_anova.R")
C("cake", "angle ~ temp + (1 | recipe) + (1 | replicate)", "lme4 tests/testthat/test-NAhandling.R")
C("cake", "angle ~ recipe * temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R (contr.sum)",
  contrasts = list(recipe = "contr.sum"))
C("cake", "angle ~ recipe * temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R (sum, Helmert)",
  contrasts = list(recipe = "contr.sum", temperature = "contr.helmert"))
C("cake", "angle ~ recipe * temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R (sum, poly)",
  contrasts = list(recipe = "contr.sum", temperature = "contr.poly"))
C("cake", "angle ~ recipe + temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R (treatment)",
  contrasts = list(temperature = "contr.treatment"))
C("cake2", "angle ~ recipe * temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R")
C("cake2", "angle ~ recipe + temperature + (1|recipe:replicate)", "lmerTest tests/test_drop1.R")
C("cake4", "angle ~ recipe * temperature + (1|recipe:replicate)", "lmerTest tests/test_anova.R (missing cell)")
C("cake4", "angle ~ recipe * temp0 + (1|recipe:replicate)", "lmerTest tests/test_anova.R")
C("cakeNA", "angle ~ temp + (1 | recipe) + (1 | replicate)", "lme4 tests/testthat/test-NAhandling.R")
C("Dyestuff", "Yield ~ 1 + (1|Batch)", "lme4 ?Dyestuff")
C("Dyestuff", "Yield ~ 1|Batch", "lme4 ?Dyestuff (bar without parentheses)")
C("Dyestuff2", "Yield ~ 1|Batch", "lme4 ?Dyestuff")
C("Pastes", "strength ~ (1|batch/cask)", "lme4 ?Pastes")
C("Pastes", "strength ~ (1|batch) + (1|batch:cask)", "lme4 ?Pastes")
C("Pastes", "strength ~ (1|batch) + (1|cask)", "lme4 ?Pastes")
C("Pastes", "strength ~ (1|batch) + (1|sample)", "lme4 ?Pastes")
C("Pastes", "strength ~ (1|batch/sample)", "lme4 ?Pastes")
C("Pastes", "strength ~ 1 + (cask | batch)", "lme4 tests")
C("Penicillin", "diameter ~ (1|plate) + (1|sample)", "lme4 ?Penicillin")
C("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", "lme4 tests")
C("InstEval", "y ~ service * dept + (1|s) + (1|d)", "lme4 ?InstEval")
C("InstEval", "y ~ service * dept + studage + lectage + (1|s) + (1|d)", "lme4 vignette lmerperf")
C("InstEval", "y ~ studage + lectage + (1|s) + (1|d)", "lme4 tests")
C("VerbAgg", "r2 ~ (Anger + Gender + btype + situ)^2 + (1|id) + (1|item)", "lme4 ?VerbAgg", family = "binomial")
C("VerbAgg", "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)", "lme4 ?VerbAgg", family = "binomial")
C("VerbAgg", "r2 ~ Anger + Gender + btype + situ + mode + (1|id) + (1|item)", "lme4 glmer vignette", family = "binomial")
C("grouseticks", "TICKS ~ YEAR + HEIGHT + (1|BROOD) + (1|INDEX) + (1|LOCATION)", "lme4 ?grouseticks", family = "poisson")
C("grouseticks", "TICKS~1+(1|BROOD)", "lme4 tests", family = "poisson")
C("Arabidopsis", "total.fruits ~ nutrient*amd + rack + status + (1|popu) + (1|gen)", "lme4 ?Arabidopsis", family = "poisson")
C("Arabidopsis", "total.fruits~status+nutrient+(1|gen)", "lme4 tests/nbinom.R", family = "poisson")
C("Orthodont", "distance ~ age + (age|Subject)", "lme4 ?lmer, ?profile")
C("Orthodont", "distance ~ I(age - 11) + (I(age - 11) | Subject)", "lme4 tests")
C("Orthodont", "distance ~ age + (age|Subject) + (0 + Sex |Subject)", "lme4 tests")
C("Orthodont", "distance ~ age + (age|Subject) + (0 + nsex|Subject)", "lme4 tests")
C("Orthodont", "distance ~ age + (age|Subject) + (0+nsex|Subject) + (0 + nsexage|Subject)", "lme4 ?lmer")
C("Orthodont", "distance ~ age + Sex + (1|Subject)", "nlme/lme4 classic (?Orthodont)")
C("Machines", "score ~ Machine + (1|Worker) + (1|Worker:Machine)", "lme4 tests/lme4_nlme.R")
C("Machines", "score ~ Machine + (Machine|Worker)", "lme4 tests/lme4_nlme.R")
C("Ovary", "follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare)", "nlme ?Ovary (issue 18)")
C("iris", "Petal.Width ~ Sepal.Length + (1 | Species)", "lme4 tests")
C("mtcars", "disp ~ (1 | cyl)", "lme4 tests")
C("rank1", "z ~ x + y + (1|r)", "lme4 tests/testthat/test-rank.R (rank deficient)")
C("rank1", "z ~ x + y2 + (1|r)", "lme4 tests/testthat/test-rank.R")
C("rank2", "z ~ a*b + (1|r)", "lme4 tests/testthat/test-rank.R (empty cell)")
C("formX", "x ~ y + z + (1|r)", "lme4 tests/testthat/test-formulaEval.R", family = "binomial")
C("formX", "z ~ x + y + (1|r)", "lme4 tests/testthat/test-formulaEval.R")
C("factors", "y~x+(1|f1/f2)", "lme4 tests/testthat/test-factors.R")
C("basis", "y ~ poly(x,2) + (1|f)", "lme4 tests/predict_basis.R", family = "binomial")
C("basis", "y ~ poly(x,2,raw=TRUE) + (1|f)", "lme4 tests/predict_basis.R", family = "binomial")
C("pois", "y~x + (1|f)", "lme4 tests/glmer-1.R", family = "poisson")
C("pois", "y~x + (1|f) + (1|obs)", "lme4 tests/glmer-1.R", family = "poisson")
C("dvert", "Y~X+Z+X:Z+(X||group)", "lme4 tests/testthat/test-doubleVertNotation.R")
## mlmRev: help pages and vignettes
C("Contraception", "use ~ urban+age+livch+(1|district)", "mlmRev ?Contraception", family = "binomial")
C("Contraception", "use ~ urban+age+livch+(urban|district)", "mlmRev ?Contraception", family = "binomial")
C("Contraception", "use ~ age + I(age^2) + urban + livch + (1|district)", "lme4 glmer vignette", family = "binomial")
C("Contraception", "use ~ age*ch + I(age^2) + urban + (1 + urban | district)", "lme4 glmer vignette", family = "binomial")
C("Contraception", "use ~ poly(age, 2) + ch + age:ch + urban + (1|district)", "lme4 tests/glmer-1.R", family = "binomial")
C("Contraception", "use ~ age + urban + (1 + urban | district)", "lme4 tests/testthat/test-covariance_glmer.R", family = "binomial")
C("Exam", "normexam ~ standLRT + sex + schgend + (1|school)", "mlmRev ?Exam, vignette MlmSoftRev")
C("Exam", "normexam ~ standLRT*sex + schgend + (1|school)", "mlmRev ?Exam")
C("Exam", "normexam ~ standLRT + sex + type + (1|school)", "mlmRev vignette MlmSoftRev")
C("Exam", "normexam ~ standLRT + sex + type + (standLRT|school)", "mlmRev vignette MlmSoftRev")
C("Exam", "normexam ~ standLRT + sex + type + (standLRT + sex|school)", "mlmRev vignette MlmSoftRev")
C("Oxboys", "height ~ age + I(age^2) + I(age^3) + I(age^4) + (age + I(age^2)|Subject)", "mlmRev vignette MlmSoftRev")
C("Oxboys", "height ~ poly(age,4) + (age + I(age^2)|Subject)", "mlmRev vignette MlmSoftRev")
C("ScotsSec", "attain ~ sex + (1|primary) + (1|second)", "mlmRev vignette MlmSoftRev")
C("ScotsSec", "attain ~ verbal*sex + social + (1|primary) + (1|second)", "mlmRev ?ScotsSec")
C("egsingle", "math~year*size+female+(1|childid)+(1|schoolid)", "mlmRev ?egsingle")
C("Chem97", "score ~ (1|school) + (1|lea)", "mlmRev ?Chem97")
C("Chem97", "score ~ gcsecnt + (1|school) + (1|lea)", "mlmRev ?Chem97")
C("star", "math ~ gr + sx + eth + cltype + (1|id) + (1|sch)", "mlmRev vignette StarData")
C("star", "read ~ gr + sx + eth + cltype + (1|id) + (1|sch)", "mlmRev vignette StarData")
C("star", "math ~ gr + sx*eth + cltype + schtype + hdeg + clad + exp + trace + (1|id) + (1|sch)", "lme4 tests/lmer-1.R")
C("Early", "cog ~ tos + trt:tos + (tos|id)", "lme4 tests/lmer2_ex.R")
C("Early", "cog ~ tos*trt + (tos|id)", "mlmRev ?Early")
C("guImmun", "immun ~ kid2p+mom25p+ord+ethn+momEd+husEd+momWork+rural+pcInd81+(1|comm/mom)", "lme4 tests/glmer-1.R", family = "binomial")
C("Hsb82", "mAch ~ meanses*cses + sector*cses + (cses|school)", "mlmRev ?Hsb82")
C("Hsb82", "mAch ~ cses*sector + (cses|school)", "mlmRev vignette MlmSoftRev (cses:sectorCatholic)")
C("Mmmec", "deaths ~ uvb + (1|region) + offset(log(expected))", "mlmRev ?Mmmec", family = "poisson")
C("Mmmec", "deaths ~ uvb + (1|region/county) + offset(log(expected))", "mlmRev ?Mmmec", family = "poisson")
C("Gcsemv", "written ~ gender + (1|school)", "mlmRev ?Gcsemv")
C("Gcsemv", "course ~ gender + (gender|school)", "mlmRev ?Gcsemv")
## lmerTest: tests
C("sleepstudy", "Reaction ~ (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ -1 + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ 0 + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ -1 + (1|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ 0 + (1|Subject) + (0+Days|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ 0 + Days + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ 1 + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ Days + (-1 + Days|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ Days + (0 + Days|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ Days + I(Days^2) + (1|Subject) + (0+Days|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ Days + I(Days^2) + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ Days - 1 + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ Days - 1 + I(Days^2) + (Days | Subject)", "lmerTest tests/test_summary.R")
C("sleepstudy", "Reaction ~ poly(Days, 2) + (Days|Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ poly(Days, 2) + (1 + poly(Days, 2) | Subject)", "lmerTest tests/test_lmer.R")
C("sleepstudy", "Reaction ~ poly(Days, 2) + (0 + poly(Days, 2) | Subject)", "lmerTest tests/test_lmer.R")
C("ham", "Informed.liking ~ Product*Information + (1|Consumer)", "lmerTest tests/test_anova.R")
C("ham", "Informed.liking ~ Product*Information + (1|Consumer) + (1|Product:Consumer)", "lmerTest tests/test_ranova_step.R")
C("ham", "Informed.liking ~ Product*Information*Gender + (1|Consumer) + (1|Product:Consumer) + (1|Information:Consumer)", "lmerTest tests/test_ranova_step.R")
C("ham", "Informed.liking ~ Gender + Information * Product + (1 | Consumer) + (1 | Consumer:Product)", "lmerTest ?lmer")
C("ham", "Informed.liking ~ Product*Age + (1|Consumer)", "lmerTest tests/test_anova.R")
C("carrots", "Preference ~ sens2 + Homesize + (1 + sens2 | Consumer)", "lmerTest tests/test_anova.R")
C("carrots", "Preference ~ sens1 + sens2 + (1 + sens1 + sens2 | Consumer) + (1 | Product)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ sens2*Homesize*sens1 + (1|Product)", "lmerTest tests/test_anova.R")
C("carrots", "Preference ~ sens2 + Gender + (log(10+sens2) | Consumer)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ sens2 + Gender + (poly(sens2, 2) | Consumer)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ sens2 + Gender + (sens2 + I(sens2^2) | Consumer)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ sens2 + Homesize + Gender + (Gender+Homesize|Consumer)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ sens2 + Homesize + (sens1 + sens2 | Consumer)", "lmerTest tests/test_ranova_step.R")
C("carrots", "Preference ~ 0 + sens2 + Homesize + (1 + sens2 | Consumer)", "lmerTest tests/test_anova.R")
C("carrots", "Preference ~ sens2*Frequency*Income + (1 + sens2 | Consumer)", "lmerTest tests/test_anova.R")
C("carrots", "Preference ~ sens2 + Homesize + (Gender -1 |Consumer)", "lmerTest tests/test_ranova_step.R")
C("TVbo", "Coloursaturation ~ TVset * Picture + (1 | Assessor) + (1 | Assessor:TVset)", "lmerTest tests/test_anova.R")
C("TVbo", "Coloursaturation ~ TVset*Picture + (1|Assessor:TVset) + (1|Assessor)", "lmerTest tests/test_ranova_step.R")
C("TVbo", "Coloursaturation ~ TVset * Picture + (TVset | Assessor)", "lmerTest tests/test_ranova_step.R")
C("TVbo", "Coloursaturation ~ TVset + Picture + (1|Assessor/TVset)", "lmerTest tests/test_ranova_step.R")
C("TVbo", "Sharpnessofmovement ~ TVset * Picture + (1 | Assessor) + (1 | Assessor:TVset) + (1 | Assessor:Picture)", "lmerTest ?ranova")
## rstanarm: tests, help pages, vignettes
C("mtcars", "mpg ~ wt + (1|cyl)", "rstanarm tests/testthat/test_stan_glmer.R")
C("mtcars", "mpg ~ wt + (1 + wt|cyl)", "rstanarm tests/testthat/test_stan_glmer.R")
C("mtcars", "mpg ~ (1 + wt|cyl/gear)", "rstanarm tests/testthat/test_stan_glmer.R")
C("mtcars", "mpg ~ 0 + (1|cyl)", "rstanarm tests/testthat/test_stan_glmer.R")
C("mtcars", "mpg ~ disp + (1|cyl)", "rstanarm ?stan_glmer")
C("mtcars", "mpg ~ wt + (1|cyl) + (1 + wt|gear)", "rstanarm tests/testthat/test_stan_glmer.R")
C("sleepstudy", "Reaction / 10 ~ Days + (Days | Subject)", "rstanarm tests/testthat/test_stan_glmer.R")
C("sleepstudy", "Reaction / 10 ~ Days + (Days | Subject) + (1|Subject)", "rstanarm tests/testthat/test_stan_glmer.R")
C("Penicillin", "diameter ~ (1|plate) + (1|sample)", "rstanarm tests/testthat/test_stan_glmer.R")
C("bball1970", "cbind(Hits, AB - Hits) ~ (1 | Player)", "rstanarm vignette pooling", family = "binomial")
C("radon", "log_radon ~ floor + (1|county)", "rstanarm ?radon")
C("radon", "log_radon ~ floor + log_uranium + (floor|county)", "rstanarm ?radon")
## brms: help pages, vignettes, tests (formulas lme4 can read)
C("epilepsy", "count ~ zAge + zBase * Trt + (1|patient)", "brms ?brm", family = "poisson")
C("epilepsy", "count ~ zAge + zBase * Trt + (1+Trt|visit)", "brms ?brm", family = "poisson")
C("epilepsy", "count ~ zAge + zBase * Trt + (1|patient) + (1|obs)", "brms ?brm", family = "poisson")
C("epilepsy", "count ~ Trt + (1|patient)", "brms ?brm", family = "poisson")
C("epilepsy", "count ~ zBase * Trt + (1|patient)", "brms ?loo", family = "poisson")
C("epilepsy", "count ~ zAge * zBase * Trt + (1|patient)", "brms ?brm", family = "poisson")
C("inhaler", "rating ~ treat + period + carry + (1|subject)", "brms ?brm")
C("kidney", "time ~ age + sex + disease + (1 + age|patient)", "brms ?brm")
C("kidney", "time ~ age * sex + disease + (1|patient)", "brms ?brm")
C("Orthodont", "distance ~ age + (age|Subject) + (0+dummy(Sex, \"Female\")|Subject)", "lme4 ?lmer (dummy())")
C("lmer1", "z~ 1|f", "lme4 tests/testthat/test-lmer.R")
C("lmer1", "z~ as.numeric(f) + 1|f", "lme4 tests/testthat/test-lmer.R")

## ------------------------------------------------------------------------------------------- reference
ctrl_l <- lmerControl(check.nobs.vs.nlev = "ignore", check.nobs.vs.rankZ = "ignore", check.nobs.vs.nRE = "ignore",
                      check.nlev.gtreq.5 = "ignore", check.nlev.gtr.1 = "ignore")
ctrl_g <- glmerControl(check.nobs.vs.nlev = "ignore", check.nobs.vs.rankZ = "ignore", check.nobs.vs.nRE = "ignore",
                       check.nlev.gtreq.5 = "ignore", check.nlev.gtr.1 = "ignore")

msum <- function(M) {
  M <- as.matrix(M); n <- nrow(M)
  if (ncol(M) == 0) return(list())
  if (n * ncol(M) <= 2000) return(list(values = lapply(seq_len(ncol(M)), function(j) unname(M[, j]))))
  w <- ((seq_len(n) - 1) %% 7) + 1
  list(sum = unname(colSums(M)), sumsq = unname(colSums(M^2)), wsum = unname(colSums(M * w)),
       head = lapply(seq_len(ncol(M)), function(j) unname(M[1:3, j])))
}
vsum <- function(v) if (is.null(v)) NULL else msum(matrix(as.numeric(v), ncol = 1))
lsum <- function(lv) {
  out <- list(n = unbox(length(lv)), md5 = unbox(digest(paste(lv, collapse = "\n"), algo = "md5", serialize = FALSE)))
  if (length(lv) <= 60) out$levels <- lv else { out$head <- head(lv, 10); out$tail <- tail(lv, 10) }
  out
}

reference <- list(); used_cols <- list()
for (i in seq_along(CASES)) {
  cs <- CASES[[i]]
  d <- DATA[[cs$data]]()
  f <- as.formula(cs$formula)
  call <- if (is.null(cs$family)) bquote(lFormula(.(f), data = d, control = ctrl_l))
          else bquote(glFormula(.(f), data = d, family = .(as.name(cs$family)), control = ctrl_g))
  if (!is.null(cs$weights)) call$weights <- as.name(cs$weights)
  if (!is.null(cs$contrasts)) call$contrasts <- cs$contrasts
  msg <- character()
  lf <- withCallingHandlers(eval(call), message = function(m) { msg <<- c(msg, conditionMessage(m)); invokeRestart("muffleMessage") })
  fr <- lf$fr
  rows <- match(rownames(fr), rownames(d))
  y <- model.response(fr)
  w <- model.weights(fr)
  if (is.matrix(y)) { succ <- y[, 1]; trials <- rowSums(y) }
  else if (is.factor(y)) { succ <- as.numeric(y != levels(y)[1]); trials <- NULL }
  else if (!is.null(w) && identical(cs$family, "binomial")) { succ <- y * w; trials <- w }
  else { succ <- as.numeric(y); trials <- NULL }
  rt <- lf$reTrms
  asg <- attr(rt$flist, "assign")
  terms <- lapply(seq_along(rt$cnms), function(j) {
    Zt <- rt$Ztlist[[j]]; k <- length(rt$cnms[[j]])
    raw <- sapply(seq_len(k), function(a) colSums(Zt[seq(a, nrow(Zt), by = k), , drop = FALSE]))
    list(factor = unbox(names(rt$cnms)[j]), levels = lsum(levels(rt$flist[[asg[j]]])), columns = rt$cnms[[j]],
         ntheta = unbox(k * (k + 1) / 2), z = msum(matrix(raw, ncol = k)))
  })
  X <- lf$X
  reference[[i]] <- list(
    id = unbox(sprintf("%03d", i)), data = unbox(cs$data), formula = unbox(cs$formula), source = unbox(cs$source),
    family = unbox(if (is.null(cs$family)) "gaussian" else cs$family),
    weights = if (is.null(cs$weights)) NULL else unbox(cs$weights),
    contrasts = if (is.null(cs$contrasts)) NULL else lapply(cs$contrasts, unbox),
    n = unbox(nrow(fr)), dropped = setdiff(seq_len(nrow(d)), rows) - 1L,   # 0-based positions of the rows left out
    x_names = colnames(X), x_dropped = names(attr(X, "col.dropped")), x = msum(X),
    y = vsum(succ), trials = vsum(trials), offset = vsum(model.offset(fr)),
    terms = terms, ntheta = unbox(length(rt$theta)), messages = msg
  )
  vars <- unique(c(all.vars(f), cs$weights))
  used_cols[[cs$data]] <- unique(c(used_cols[[cs$data]], intersect(vars, names(d))))
}
names(reference) <- NULL
writeLines(toJSON(list(lme4 = unbox(as.character(packageVersion("lme4"))), R = unbox(R.version.string), cases = reference),
                  auto_unbox = FALSE, digits = NA, null = "null", pretty = FALSE),
           file.path(here, "reference.json"))

## ------------------------------------------------------------------------------------------- data export
dir.create(file.path(here, "data"), showWarnings = FALSE)
meta <- list()
for (nm in names(used_cols)) {
  d <- DATA[[nm]]()
  cols <- names(d)[names(d) %in% used_cols[[nm]]]   # in the data's own column order
  d <- d[, cols, drop = FALSE]
  cm <- list()
  out <- data.frame(row.names = seq_len(nrow(d)))
  for (c in cols) {
    v <- d[[c]]
    if (is.factor(v)) {
      cm[[c]] <- list(type = unbox("factor"), levels = levels(v), ordered = unbox(is.ordered(v))); out[[c]] <- as.character(v)
    } else if (is.logical(v)) {
      cm[[c]] <- list(type = unbox("logical")); out[[c]] <- ifelse(v, "TRUE", "FALSE")
    } else if (is.character(v)) {
      cm[[c]] <- list(type = unbox("character")); out[[c]] <- v
    } else if (is.integer(v)) {
      cm[[c]] <- list(type = unbox("integer")); out[[c]] <- as.character(v)
    } else {
      cm[[c]] <- list(type = unbox("numeric")); out[[c]] <- ifelse(is.na(v), NA, sprintf("%.17g", v))
    }
  }
  meta[[nm]] <- list(nrow = unbox(nrow(d)), columns = cm)
  con <- gzfile(file.path(here, "data", paste0(nm, ".csv.gz")), "w")
  write.csv(out, con, row.names = FALSE, na = "")
  close(con)
}
writeLines(toJSON(meta, auto_unbox = FALSE, pretty = FALSE), file.path(here, "data", "columns.json"))
cat(length(reference), "formulas,", length(meta), "data sets\n")
