# glmmTMB reference of tests/test_response_terms.py::test_zero_inflation_predicted_by_a_formula_fits_salamanders
# run from the repository root: Rscript tests/data/salamanders_zi_mined.R (glmmTMB 1.1.5, R 4.2)
# printed: zi (Intercept) -1.054898, minedyes 1.844929; cond minedyes -1.271413
suppressMessages(library(glmmTMB))
d <- read.csv("bayesmixed/datasets/data/Salamanders.csv")
d$mined <- factor(d$mined, levels = c("yes", "no")); d$mined <- relevel(d$mined, "no")
m <- glmmTMB(count ~ spp + mined + (1 | site), ziformula = ~ mined, family = poisson, data = d)
print(fixef(m)$zi); print(fixef(m)$cond["minedyes"])
