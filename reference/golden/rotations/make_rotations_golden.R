# Golden files for qvalid's rotations: psych::principal(rotate = <name>) as R qmethod 1.8.4 calls it, and the
# GPArotation / psych rotation function underneath, for every rotation name psych::principal knows.
#
# Run from the repository root:
#     Rscript reference/golden/rotations/make_rotations_golden.R
#
# Reads  reference/golden/inputs/{lipset,nav_synth}.csv and reference/golden/rotations/inputs/*.csv
#        (made by make_inputs.py), qmethod's layout (statements x Q-sorts).
# Writes reference/golden/rotations/<study>.json, one file per study (schema in README.md beside this script), and
#        reference/golden/rotations/criteria.json (every vgQ criterion's value and gradient at one matrix).
#
# For each study, k and rotation (plus a few cases with non-default arguments) it records
#   - principal(cor(data), k, rotate = name, ...): loadings, Phi, rot.mat (what qmethod's loa is made of);
#   - qmethod(data, k, rotation = name, ...)$loa: its largest difference from those loadings (must be 0) or its
#     error;
#   - the rotation function itself on principal's unrotated loadings (GPArotation::<fun>, psych::equamax,
#     varimin, bifactor, biquartimin): Th, the number of iterations (nrow(Table) - 1), convergence and the final
#     criterion value (its loadings are the unrotated ones times Th, or times t(solve(Th)) when oblique).
# psych is attached (library(psych)): psych's own criteria (vgQ.bimin, vgQ.varimin) are found by GPArotation only
# then; with qmethod alone (psych imported, not attached) "bifactor", "biquartimin" and "varimin" fail with
# 'could not find function "vgQ.bimin"' / "vgQ.varimin".
#
# JSON is written by hand (no jsonlite): doubles as sprintf("%.17g"), NA as null. Deterministic apart from the
# "generated" date.

suppressPackageStartupMessages({
  library(qmethod)
  library(psych)
  library(GPArotation)
})

root_inputs <- file.path("reference", "golden", "inputs")
rot_dir <- file.path("reference", "golden", "rotations")
if (!dir.exists(rot_dir)) stop("run this script from the repository root")

STUDIES <- list(
  lipset = list(file = file.path(root_inputs, "lipset.csv"), ks = 2:5, extra = TRUE),
  nav_synth = list(file = file.path(root_inputs, "nav_synth.csv"), ks = 2:5, extra = FALSE),
  equal = list(file = file.path(rot_dir, "inputs", "equal.csv"), ks = 2:4, extra = FALSE),
  weak = list(file = file.path(rot_dir, "inputs", "weak.csv"), ks = 2:5, extra = FALSE),
  square = list(file = file.path(rot_dir, "inputs", "square.csv"), ks = 2:5, extra = FALSE)
)

ROTATIONS <- c("varimax", "Varimax", "quartimax", "bentlerT", "geominT", "targetT", "TargetT", "equamax",
               "varimin", "bifactor", "promax", "Promax", "cluster", "biquartimin", "oblimin", "quartimin",
               "simplimax", "geominQ", "bentlerQ", "targetQ")
# the function psych::principal calls (NULL: no iteration record; stats::varimax / stats::promax / target.rot)
RAW <- list(Varimax = "GPArotation::Varimax", quartimax = "GPArotation::quartimax",
            bentlerT = "GPArotation::bentlerT", geominT = "GPArotation::geominT", targetT = "GPArotation::targetT",
            TargetT = "GPArotation::targetT", equamax = "psych::equamax", varimin = "psych::varimin",
            bifactor = "psych::bifactor", biquartimin = "psych::biquartimin", oblimin = "GPArotation::oblimin",
            quartimin = "GPArotation::quartimin", simplimax = "GPArotation::simplimax",
            geominQ = "GPArotation::geominQ", bentlerQ = "GPArotation::bentlerQ", targetQ = "GPArotation::targetQ")
# lipset, k = 3: non-default arguments passed through qmethod's ... (tag, rotation, args)
EXTRA <- list(
  list("gam0.5", "oblimin", list(gam = 0.5)),
  list("gam-0.5", "oblimin", list(gam = -0.5)),
  list("delta0.1", "geominT", list(delta = 0.1)),
  list("delta0.5", "geominQ", list(delta = 0.5)),
  list("k10", "simplimax", list(k = 10)),
  list("normalize", "quartimax", list(normalize = TRUE)),
  list("normalize", "oblimin", list(normalize = TRUE)),
  list("normalize", "geominQ", list(normalize = TRUE)),
  list("nonormalize", "varimax", list(normalize = FALSE)),
  list("eps1e-8", "bentlerQ", list(eps = 1e-8)),
  list("eps1e-8", "Varimax", list(eps = 1e-8)),
  list("maxit5", "oblimin", list(maxit = 5))
)
# (promax's power m cannot be passed through qmethod: principal(m = 3) matches both of principal's arguments
# "method" and "missing" partially, and R stops with "argument 4 matches multiple formal arguments".)

# ------------------------------------------------------------------------------------------------ JSON writer
jnum <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
jstr <- function(s) paste0("\"", gsub("\"", "\\\"", gsub("\\", "\\\\", s, fixed = TRUE), fixed = TRUE), "\"")
jvec <- function(v) paste0("[", paste(vapply(v, jnum, ""), collapse = ", "), "]")
jmat <- function(m, pad) {
  if (is.null(m)) return("null")
  m <- unclass(as.matrix(m))
  rows <- vapply(seq_len(nrow(m)), function(i) jvec(m[i, ]), "")
  paste0("[\n", paste0(pad, "  ", rows, collapse = ",\n"), "\n", pad, "]")
}
jval <- function(x, pad = "") {
  if (is.null(x)) return("null")
  if (is.matrix(x)) return(jmat(x, pad))
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    inner <- paste0(pad, "  ")
    items <- vapply(seq_along(x), function(i) jval(x[[i]], inner), "")
    if (is.null(names(x))) return(paste0("[\n", paste0(inner, items, collapse = ",\n"), "\n", pad, "]"))
    return(paste0("{\n", paste0(inner, vapply(names(x), jstr, ""), ": ", items, collapse = ",\n"), "\n", pad, "}"))
  }
  if (is.logical(x) && length(x) == 1) return(if (is.na(x)) "null" else if (x) "true" else "false")
  if (is.character(x)) {
    if (length(x) == 1 && !inherits(x, "AsIs")) return(jstr(x))
    return(paste0("[", paste(vapply(x, jstr, ""), collapse = ", "), "]"))
  }
  if (length(x) == 1 && !inherits(x, "AsIs")) return(jnum(x))
  jvec(x)
}

# ------------------------------------------------------------------------------------------------ helpers
captured <- function(expr) {
  warns <- character(0)
  value <- tryCatch(withCallingHandlers(expr, warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  }, message = function(m) invokeRestart("muffleMessage")),
  error = function(e) structure(conditionMessage(e), class = "captured_error"))
  list(value = value, warnings = warns, error = if (inherits(value, "captured_error")) as.character(value) else NULL)
}

cluster_target <- function(vm, k) {
  # 0.7 * sign on each sort's largest absolute varimax loading, 0 elsewhere
  tg <- matrix(0, nrow(vm), k)
  for (i in seq_len(nrow(vm))) {
    j <- which.max(abs(vm[i, ]))
    tg[i, j] <- 0.7 * sign(vm[i, j])
  }
  tg
}

one_case <- function(d, r, k, unrot, rotation, args, tag) {
  pr <- captured(do.call(principal, c(list(r, nfactors = k, rotate = rotation), args)))
  out <- list(case = paste0(rotation, "_k", k, if (nzchar(tag)) paste0("_", tag) else ""), rotation = rotation,
              nfactors = k, args = if (length(args)) args else structure(list(), names = character(0)))
  if (is.null(pr$error)) {
    p <- pr$value
    out$loadings <- unclass(p$loadings)
    dimnames(out$loadings) <- NULL
    out$phi <- if (is.null(p$Phi)) NULL else unname(p$Phi)
    out$rot_mat <- if (is.null(p$rot.mat)) NULL else unname(p$rot.mat)
  } else {
    out$loadings <- NULL
    out$phi <- NULL
    out$rot_mat <- NULL
  }
  out$error <- pr$error
  out$warnings <- I(pr$warnings)
  qm <- captured(do.call(qmethod, c(list(d, nfactors = k, rotation = rotation, silent = TRUE), args)))
  out$qmethod_error <- qm$error
  out$qmethod_loadings_maxdiff <- if (is.null(qm$error) && is.null(pr$error))
    max(abs(unname(qm$value$loa) - out$loadings)) else NULL
  raw <- RAW[[rotation]]
  if (!is.null(raw)) {
    fn <- eval(parse(text = raw))
    rargs <- c(list(unrot), args)
    if (rotation %in% c("targetT", "TargetT")) rargs$Tmat <- diag(k)
    g <- captured(do.call(fn, rargs))
    if (is.null(g$error)) {
      gv <- g$value
      tab <- gv$Table
      out$gpa <- list(`function` = raw, th = unname(gv$Th), iterations = nrow(tab) - 1, convergence = gv$convergence, f = tab[nrow(tab), 2],
                      log10_s = tab[nrow(tab), 3], error = NULL)
    } else {
      out$gpa <- list(`function` = raw, error = g$error)
    }
  }
  out
}

versions <- list(R = R.version.string, qmethod = as.character(packageVersion("qmethod")),
                 psych = as.character(packageVersion("psych")),
                 GPArotation = as.character(packageVersion("GPArotation")))

for (study in names(STUDIES)) {
  spec <- STUDIES[[study]]
  d <- read.csv(spec$file, row.names = 1, check.names = FALSE)
  r <- cor(d)
  cases <- list()
  unrotated <- list()
  for (k in spec$ks) {
    unrot <- unclass(principal(r, nfactors = k, rotate = "none")$loadings)
    dimnames(unrot) <- NULL
    unrotated[[paste0("k", k)]] <- unrot
    vm <- unclass(stats::varimax(unrot)$loadings)
    tg <- cluster_target(vm, k)
    tgq <- tg
    tgq[abs(vm) > 0.2 & abs(vm) < 0.4] <- NA
    for (rotation in ROTATIONS) {
      args <- list()
      if (rotation %in% c("targetT", "TargetT")) args$Target <- tg
      if (rotation == "targetQ") args$Target <- tgq
      cases[[length(cases) + 1]] <- one_case(d, r, k, unrot, rotation, args, "")
    }
    if (spec$extra && k == 3) {
      for (ex in EXTRA) {
        cases[[length(cases) + 1]] <- one_case(d, r, k, unrot, ex[[2]], ex[[3]], ex[[1]])
      }
    }
  }
  for (cs in cases) {
    cat(sprintf("%-10s %-24s %s%s\n", study, cs$case, if (is.null(cs$error)) "ok" else paste("ERROR", cs$error),
                if (!is.null(cs$gpa) && !is.null(cs$gpa$iterations))
                  sprintf("  (%d iterations%s)", as.integer(cs$gpa$iterations),
                          if (isTRUE(cs$gpa$convergence)) "" else ", NOT converged") else ""))
    if (!is.null(cs$qmethod_loadings_maxdiff) && cs$qmethod_loadings_maxdiff != 0)
      stop("qmethod's loa differs from principal's loadings in ", study, " ", cs$case)
  }
  obj <- list(study = study, input = spec$file, versions = versions, generated = format(Sys.Date()),
              sort_ids = I(colnames(d)), correlation = unname(r), unrotated = unrotated, cases = cases)
  path <- file.path(rot_dir, paste0(study, ".json"))
  con <- file(path, open = "wb")
  writeBin(charToRaw(enc2utf8(paste0(jval(obj), "\n"))), con)
  close(con)
  cat("wrote", path, "\n")
}

# ------------------------------------------------------------------------------------------------ criteria
# Every vgQ criterion (GPArotation's and psych's bimin/varimin) at one fixed loadings matrix: value f and gradient
# Gq, so that the criteria are checked against R without R (reference/golden/rotations/criteria.json).
set.seed(22)  # (L and the target are written to the file: the values, not the generator, are the reference)
L <- matrix(round(runif(44, -0.9, 0.9), 4), 11)
Tg <- matrix(round(runif(44, -0.5, 0.5), 4), 11)
Tg[(outer(1:11, 1:4, "+") %% 5) == 0] <- NA
W <- 1 * ((outer(1:11, 1:4, "*") %% 3) == 0)
crit <- list(
  varimax = list(), quartimax = list(), quartimin = list(), oblimin = list(gam = 0.3), target = list(Target = Tg),
  pst = list(W = W, Target = 0 * L), oblimax = list(), entropy = list(), simplimax = list(k = 9), bentler = list(),
  geomin = list(delta = 0.05), cf = list(kappa = 0.2), infomax = list(), mccammon = list(), tandemI = list(),
  tandemII = list(), bifactor = list(), bimin = list(), varimin = list())
out <- list()
for (m in names(crit)) {
  fn <- if (m %in% c("bimin", "varimin")) get(paste0("vgQ.", m), envir = asNamespace("psych")) else
    get(paste0("vgQ.", m), envir = asNamespace("GPArotation"))
  v <- do.call(fn, c(list(L), crit[[m]]))
  out[[m]] <- list(args = if (length(crit[[m]])) crit[[m]] else structure(list(), names = character(0)),
                   f = v$f, Gq = unname(v$Gq))
}
obj <- list(versions = versions, generated = format(Sys.Date()), L = L, target = Tg, W = W, criteria = out)
path <- file.path(rot_dir, "criteria.json")
con <- file(path, open = "wb")
writeBin(charToRaw(enc2utf8(paste0(jval(obj), "\n"))), con)
close(con)
cat("wrote", path, "\n")
