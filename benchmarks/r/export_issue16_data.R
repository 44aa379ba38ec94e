# Export brms's epilepsy data (Thall & Vail 1990, as shipped with brms 2.18, GPL-2) for bayesmixed's datasets:
#   Rscript benchmarks/r/export_issue16_data.R bayesmixed/datasets/data
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
data(epilepsy, package = "brms")
e <- epilepsy[, c("patient", "visit", "obs", "Age", "Base", "Trt", "zAge", "zBase", "count")]
for (v in c("patient", "visit", "obs", "Trt")) e[[v]] <- as.character(e[[v]])
write.csv(e, file.path(out, "epilepsy.csv"), row.names = FALSE)
