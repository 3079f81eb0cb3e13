# The R code qvalid sends to R (qvalid/r/session.py loads it once per R session) and that
# reference/golden/make_golden.R sources, so the golden files and the live cross-check run the same R.
#
# Evaluates to a list of functions:
#   run(dataset, nfactors, extraction, rotation, forced, distribution, cor.method, spc, flagged, timeout,
#       rot.args = list())
#       qmethod::qmethod() (or, when it fails or flags are given, its steps one by one), plus cor() and the
#       unrotated loadings, with every warning and error captured; rot.args are the rotation's arguments that
#       qmethod's ... passes on to psych::principal (gam, delta, k, normalize, eps, maxit, Target);
#   make_dataset(values, nrow, rownames, colnames), versions(), capture(expr), extract_rotate(...),
#   qmboots(dataset, nfactors, nsteps, seed, forced, distribution), saved(path) (a saveRDS'd qmethod result).
local({
  deadline <- NULL  # set by run(): every captured step gets the time that is left (R resets a spent limit)
  capture <- function(expr) {
    warns <- character(0)
    err <- NULL
    if (!is.null(deadline)) {
      left <- as.numeric(difftime(deadline, Sys.time(), units = "secs"))
      if (left <= 0) return(list(value = NULL, warnings = character(0), error = "reached elapsed time limit"))
      setTimeLimit(elapsed = left, transient = TRUE)
    }
    value <- tryCatch(
      withCallingHandlers(expr, warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      }),
      error = function(e) {
        err <<- conditionMessage(e)
        NULL
      })
    list(value = value, warnings = warns, error = err)
  }

  make_dataset <- function(values, nrow, rn, cn) {
    m <- matrix(as.integer(values), nrow = nrow, dimnames = list(rn, cn))
    d <- as.data.frame(m, stringsAsFactors = FALSE)
    stopifnot(identical(colnames(d), cn), identical(rownames(d), rn))
    d
  }

  # qmethod()'s rotation code, R/qmethod.R:31-43, as one function (used by the step-by-step route)
  extract_rotate <- function(cor.data, nfactors, extraction, rotation, spc, note, rot.args = list()) {
    if (extraction == "PCA") {
      loa <- unclass(do.call(psych::principal, c(list(cor.data, nfactors = nfactors, rotate = rotation),
                                                 rot.args))$loadings)
    } else {
      loa.unr <- unclass(qmethod::centroid(tmat = cor.data, nfactors = nfactors, spc))
      if (rotation == "none") {
        loa <- loa.unr
      } else {
        r <- capture(unclass(stats::varimax(loa.unr[, 1:nfactors])$loadings))
        if (!is.null(r$error)) {
          note(paste0("qmethod's unclass(varimax(loa.unr[, 1:nfactors])$loadings) fails (", r$error,
                      "); loadings here are stats::varimax(loa.unr[, 1:nfactors, drop = FALSE]), which returns ",
                      "a one-column matrix unchanged: loadings == unrotated centroid loadings, and flags, ",
                      "z-scores etc. follow from them. This is not output of qmethod()."))
          v <- stats::varimax(loa.unr[, 1:nfactors, drop = FALSE])
          loa <- if (is.list(v)) unclass(v$loadings) else v
        } else {
          loa <- r$value
        }
      }
    }
    loa <- as.matrix(loa)
    colnames(loa) <- paste0("f", seq_len(ncol(loa)))
    loa
  }

  run <- function(dataset, nfactors, extraction, rotation, forced, distribution, cor.method, spc, flagged,
                  timeout, rot.args = list()) {
    deadline <<- Sys.time() + timeout
    on.exit({ deadline <<- NULL; setTimeLimit(elapsed = Inf) })
    nstat <- nrow(dataset)
    k <- nfactors
    sw <- character(0); se <- character(0); notes <- character(0)
    note <- function(x) notes <<- c(notes, x)
    if (rotation %in% c("varimin", "bifactor", "biquartimin") && !("package:psych" %in% search())) {
      # psych's own criteria (vgQ.varimin, vgQ.bimin) are found by GPArotation only on the search path
      suppressPackageStartupMessages(library(psych))
      note(paste0("psych attached (library(psych)) for rotation '", rotation, "': with qmethod alone GPArotation ",
                  "cannot find psych's criterion and qmethod() stops ('could not find function \"vgQ...\"')"))
    }
    step <- function(name, expr) {
      r <- capture(expr)
      if (length(r$warnings)) sw <<- c(sw, paste0(name, ": ", r$warnings))
      if (!is.null(r$error)) se <<- c(se, paste0(name, ": ", r$error))
      r$value
    }
    # correlation and unrotated loadings, which qmethod() does not return
    cor.data <- step("cor", cor(dataset, method = cor.method))
    unrot <- NULL
    if (!is.null(cor.data)) {
      unrot <- step(if (extraction == "PCA") "principal(rotate='none')" else "centroid",
                    if (extraction == "PCA")
                      unclass(psych::principal(cor.data, nfactors = k, rotate = "none")$loadings)
                    else unclass(qmethod::centroid(tmat = cor.data, nfactors = k, spc)))
    }
    qm <- list(value = NULL, warnings = character(0), error = NULL)
    qm_seconds <- NA_real_
    route <- "stepwise"
    if (is.null(flagged)) {
      t_qm <- proc.time()[["elapsed"]]
      qm <- capture(do.call(qmethod::qmethod, c(list(dataset, nfactors = k, extraction = extraction,
                                                     rotation = rotation, forced = forced,
                                                     distribution = distribution, cor.method = cor.method,
                                                     silent = TRUE, spc = spc), rot.args)))
      qm_seconds <- proc.time()[["elapsed"]] - t_qm
      if (!is.null(qm$value)) route <- "qmethod"
    } else {
      route <- "manual"
    }
    loa <- NULL; flg <- NULL; qz <- NULL; qd <- NULL
    if (route == "qmethod") {
      res <- qm$value
      loa <- res$loa; flg <- res$flagged; qz <- res; qd <- res$qdc
    } else if (!is.null(cor.data)) {
      loa <- step("extraction/rotation", extract_rotate(cor.data, k, extraction, rotation, spc, note, rot.args))
      if (!is.null(loa)) {
        if (route == "manual") {
          flg <- flagged
          dimnames(flg) <- list(rownames(loa), paste0("flag_f", seq_len(k)))
          qm <- capture({
            z <- qmethod::qzscores(dataset, k, loa = loa, flagged = flg, forced = forced,
                                   distribution = distribution)
            list(qz = z, qdc = capture(qmethod::qdc(dataset, k, zsc = z$zsc, sed = z$f_char$sd_dif)))
          })
          if (!is.null(qm$value)) {
            qz <- qm$value$qz
            qd <- qm$value$qdc$value
            qm$warnings <- c(qm$warnings, qm$value$qdc$warnings)
            qm$error <- qm$value$qdc$error
            if (!is.null(qm$error)) se <- c(se, paste0("qdc: ", qm$error))
          } else if (!is.null(qm$error)) {
            se <- c(se, paste0("qzscores: ", qm$error))
          }
        } else {
          flg <- step("qflag", qmethod::qflag(loa = loa, nstat = nstat))
          if (!is.null(flg)) {
            qz <- step("qzscores", qmethod::qzscores(dataset, k, flagged = flg, loa = loa, forced = forced,
                                                       distribution = distribution))
            if (!is.null(qz)) qd <- step("qdc", qmethod::qdc(dataset, k, zsc = qz$zsc, sed = qz$f_char$sd_dif))
          }
        }
      }
    }
    c(list(route = route, warnings = qm$warnings, error = qm$error,
           step_warnings = sw, step_errors = se, notes = notes,
           cor = num(cor.data), unrot = num(unrot)),
      outputs(loa, flg, qz, qd), list(qm_seconds = qm_seconds))
  }

  num <- function(x) if (is.null(x)) NULL else { x <- as.matrix(x); storage.mode(x) <- "double"; x }

  # the outputs of a qmethod()/qzscores() value as run() returns them: loadings, flags, z-scores, arrays,
  # characteristics and the qdc table split into labels, pairs, differences and stars
  outputs <- function(loa, flg, qz, qd) {
    qdc_out <- NULL; qdc_msg <- NULL
    if (is.character(qd)) qdc_msg <- qd
    if (is.data.frame(qd)) {
      cols <- names(qd)[-1]
      pairs <- cols[!startsWith(cols, "sig_")]
      qdc_out <- list(labels = as.character(qd$dist.and.cons), pairs = pairs,
                      diffs = num(as.matrix(qd[pairs])),
                      stars = as.character(as.matrix(qd[paste0("sig_", pairs)])))
    }
    ch <- if (is.null(qz)) NULL else qz$f_char$characteristics
    list(loa = num(loa), loa_rownames = rownames(loa),
         flagged = num(flg), zsc = num(qz$zsc), zsc_n = num(qz$zsc_n),
         characteristics = if (is.null(ch)) NULL else lapply(as.list(ch), as.numeric),
         cor_zsc = num(qz$f_char$cor_zsc), sd_dif = num(qz$f_char$sd_dif),
         qdc = qdc_out, qdc_message = qdc_msg)
  }

  # a qmethod() (or qzscores()) value saved with saveRDS: run()'s shape, plus the dataset and the brief
  saved <- function(path) {
    x <- readRDS(path)
    if (!inherits(x, "QmethodRes"))
      stop(paste0("not a qmethod result (an R object of class ", paste(class(x), collapse = "/"),
                  "): save the value of qmethod() with saveRDS()"))
    b <- x$brief
    qd <- if (length(x) >= 8) x[[8]] else NULL
    c(list(route = "saved", warnings = character(0), error = NULL, step_warnings = character(0),
           step_errors = character(0), notes = character(0), cor = NULL, unrot = NULL),
      outputs(x$loa, x$flagged, x, qd),
      list(qm_seconds = NA_real_, dataset = num(x$dataset), statement_ids = rownames(x$dataset),
           sort_ids = colnames(x$dataset), nfactors = as.integer(b$nfactors), distro = isTRUE(b$distro),
           extraction = as.character(b$extraction), rotation = as.character(b$rotation),
           cor_method = as.character(b$cor.method),
           flagging = if (is.null(b$flagging)) "manual" else as.character(b$flagging),
           version = as.character(b$pkg.version), info = as.character(b$info)))
  }

  versions <- function() list(R = R.version.string, qmethod = as.character(utils::packageVersion("qmethod")),
                              psych = as.character(utils::packageVersion("psych")))

  # qmethod's qmboots (PCA + varimax, indet = "qindtest"), after set.seed(seed): its resamples and step tables
  qmboots_run <- function(dataset, nfactors, nsteps, seed, forced, distribution) {
    set.seed(seed)
    t0 <- proc.time()[["elapsed"]]
    b <- suppressWarnings(qmethod::qmboots(dataset, nfactors = nfactors, nsteps = nsteps, load = "auto",
           rotation = "varimax", indet = "qindtest", fsi = TRUE, forced = forced, distribution = distribution,
           cor.method = "pearson"))
    secs <- proc.time()[["elapsed"]] - t0
    out <- list(resamples = unname(as.matrix(b$resamples)), fsi = unname(as.matrix(b$fsi)),
                target = unname(as.matrix(b$orig.res$loa)), seconds = secs,
                order_log = as.character(unlist(b$indet.tests[[2]][[1]])),
                zbn = as.matrix(b[["zscore-stats"]][[1]]))
    for (n in 1:nfactors) {
      r <- b$full.bts.res[[n]]
      out[[paste0("loa_", n)]] <- unname(as.matrix(r$loa))
      out[[paste0("flagged_", n)]] <- unname(1 * as.matrix(r$flagged))
      out[[paste0("zsc_", n)]] <- unname(as.matrix(r$zsc))
      out[[paste0("zstats_", n)]] <- as.matrix(b[["zscore-stats"]][[n + 1]])
      out[[paste0("loastats_", n)]] <- as.matrix(b$loa.stats[[n]])
    }
    out
  }

  list(run = run, make_dataset = make_dataset, versions = versions, capture = capture,
       extract_rotate = extract_rotate, qmboots = qmboots_run, saved = saved)
})
