# Export the ordinal reference data sets for bayesmixed's datasets (issue 17):
#   Rscript benchmarks/r/export_ordinal_data.R bayesmixed/datasets/data
# wine: ordinal 2019.12-10 (Randall 1989; GPL-2 or later); inhaler: brms 2.18.0 (Ezzet & Whitehead 1991; GPL-2).
# Ordered factors are written as their integer codes 1..K (unquoted), the other factors as quoted strings.
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
data(wine, package = "ordinal")
w <- data.frame(response = wine$response, rating = as.integer(wine$rating), temp = as.character(wine$temp),
                contact = as.character(wine$contact), bottle = as.character(wine$bottle),
                judge = as.character(wine$judge))
write.csv(w, file.path(out, "wine.csv"), row.names = FALSE)
data(inhaler, package = "brms")
h <- inhaler
h$subject <- as.character(h$subject)
write.csv(h, file.path(out, "inhaler.csv"), row.names = FALSE)
