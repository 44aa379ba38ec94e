# Export the data sets of issue 17's reference models for bayesmixed's datasets:
#   Rscript benchmarks/r/export_issue17_data.R bayesmixed/datasets/data
# Salamanders: glmmTMB 1.1.5 (Price et al. 2016, via glmmTMB; AGPL-3). kidney: brms 2.18 (McGilchrist & Aisbett
# 1991, via brms; GPL-2). R factors are written as strings (bayesmixed.datasets.load reads them as categoricals,
# levels in alphabetical order; the reference fits in references_issue17.R read them back the same way).
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
data(Salamanders, package = "glmmTMB")
s <- Salamanders
for (v in c("site", "mined", "spp")) s[[v]] <- as.character(s[[v]])
write.csv(s, file.path(out, "Salamanders.csv"), row.names = FALSE)
data(kidney, package = "brms")
k <- kidney
for (v in c("recur", "sex", "disease")) k[[v]] <- as.character(k[[v]])
k$patient <- as.character(k$patient)
write.csv(k, file.path(out, "kidney.csv"), row.names = FALSE)
