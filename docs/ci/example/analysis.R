# The group's analysis, in R: three factors, principal components and varimax (R qmethod). It writes the result
# twice, as a saveRDS file and as qmethod's printed text; qvalid diff can guard either against analysis.qsnap.json.
library(qmethod)
dataset <- read.csv("data/study.csv", row.names = 1, check.names = FALSE)
results <- qmethod(dataset, nfactors = 3, extraction = "PCA", rotation = "varimax", silent = TRUE)
dir.create("results", showWarnings = FALSE)
saveRDS(results, "results/qm.rds")
export.qm(results, file = "results/qm.txt")
