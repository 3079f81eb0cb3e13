# R qmethod timings for the README's speed table: Rscript benchmarks/r_timing.R [large.csv]
# Warm timings (30 calls after a first one) on lipset and the golden 36 x 25 study; with an argument, one call of
# centroid + varimax (k = 4) on that file, e.g. a 60 x 2000 study written with
#   python -c "from qvalid.simulate import planted_study; from qvalid.io import write_csv; \
#              write_csv(planted_study(60, 2000, 4, seed=2)[0], 'large.csv')"
suppressMessages(library(qmethod))
data(lipset)
run <- function(d, k, ex) invisible(capture.output(suppressWarnings(qmethod(d, k, extraction = ex, silent = TRUE))))
t0 <- Sys.time(); run(lipset[[1]], 3, "PCA"); cat(sprintf("lipset PCA k3, first call: %.1f ms\n", 1000 * as.numeric(Sys.time() - t0, units = "secs")))
warm <- function(d, k, ex, n = 30) 1000 * system.time(for (i in 1:n) run(d, k, ex))[["elapsed"]] / n
nav <- read.csv("reference/golden/inputs/nav_synth.csv", row.names = 1, check.names = FALSE)
for (ex in c("PCA", "centroid")) {
  cat(sprintf("lipset %s k3: %.2f ms\n", ex, warm(lipset[[1]], 3, ex)))
  cat(sprintf("36 x 25 %s k4: %.2f ms\n", ex, warm(nav, 4, ex)))
}
args <- commandArgs(trailingOnly = TRUE)
if (length(args)) {
  big <- read.csv(args[1], row.names = 1, check.names = FALSE)
  t0 <- Sys.time(); run(big, 4, "centroid")
  cat(sprintf("%s centroid k4: %.1f s\n", args[1], as.numeric(Sys.time() - t0, units = "secs")))
}
