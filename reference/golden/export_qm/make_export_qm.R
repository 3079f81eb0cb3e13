# qmethod's printed results (export.qm, style "R") and saveRDS files for the tests of qvalid's R-result readers
# (qvalid/r/saved.py, tests/test_snapshot.py): run from the repository root,
#   Rscript reference/golden/export_qm/make_export_qm.R
# Each case is a golden case of reference/golden (same input, same options), so the printed numbers can be checked
# against the full-precision outputs stored there, without R. Writes <case>.txt (export.qm) into this folder; the
# .rds files the live tests need are written by the tests themselves (binary files are not committed).
suppressPackageStartupMessages(library(qmethod))
stopifnot(as.character(packageVersion("qmethod")) == "1.8.4")
here <- "reference/golden/export_qm"
read <- function(file) {
  d <- read.csv(file.path("reference/golden/inputs", file), row.names = 1, check.names = FALSE)
  d[vapply(d, is.numeric, TRUE)]
}
grid <- function(g) rep(as.integer(names(g)), g)
cases <- list(
  list(name = "lipset_pca_varimax_pearson_k3", file = "lipset.csv", k = 3, extraction = "PCA", forced = TRUE),
  list(name = "nav_synth_centroid_varimax_pearson_k4", file = "nav_synth.csv", k = 4, extraction = "centroid",
       forced = TRUE),
  list(name = "many_factors_pca_varimax_pearson_k10", file = "many_factors.csv", k = 10, extraction = "PCA",
       forced = TRUE),
  list(name = "nonforced_pca_varimax_pearson_k3", file = "nonforced.csv", k = 3, extraction = "PCA",
       forced = FALSE, distribution = grid(c("-3" = 2, "-2" = 3, "-1" = 5, "0" = 10, "1" = 5, "2" = 3, "3" = 2))))
for (cs in cases) {
  res <- suppressWarnings(qmethod(read(cs$file), nfactors = cs$k, extraction = cs$extraction, rotation = "varimax",
                                  forced = cs$forced, distribution = cs$distribution, cor.method = "pearson",
                                  silent = TRUE, spc = 1e-5))
  res$brief$date <- "(date removed)"  # deterministic files: the run date is the only varying line
  res$brief$info[2] <- "Finished on:               (date removed)"
  suppressWarnings(export.qm(res, file.path(here, paste0(cs$name, ".txt")), style = "R"))
  cat(cs$name, "\n")
}
# a qzscores() value (manual flags: US1 unflagged), which has no qdc table (qmethod prints 7 items). (One factor
# cannot be exported: qmethod 1.8.4's print stops at the qdc message, "incorrect number of dimensions".)
d <- read.csv("reference/golden/inputs/lipset.csv", row.names = 1, check.names = FALSE)
res <- suppressWarnings(qmethod(d, nfactors = 3, silent = TRUE))
f <- res$flagged
f["US1", "flag_f2"] <- FALSE
qz <- qzscores(d, 3, loa = res$loa, flagged = f)
qz$brief$date <- "(date removed)"
qz$brief$info[2] <- "Finished on:             (date removed)"
export.qm(qz, file.path(here, "lipset_qzscores_k3.txt"), style = "R")
cat("lipset_qzscores_k3\n")
