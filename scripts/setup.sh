#!/usr/bin/env bash
# One-time (idempotent) set-up of qvalid on Debian 12: Debian's python3 + R packages, qmethod from CRAN,
# a venv that sees Debian's site-packages, and qvalid installed editable into it.
# Fast when everything is already there. Usage: scripts/setup.sh  (run as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(python3-numpy python3-scipy python3-pandas python3-rpy2 python3-hypothesis python3-pytest
          python3-pytest-benchmark python3-matplotlib python3-tqdm python3-venv python3-pip python3-setuptools
          python3-wheel python3-openpyxl python3-odf python3-xlrd python3-distributed python3-lxml python3-yaml
          r-base-core r-cran-psych r-cran-digest r-cran-knitr r-cran-xtable r-cran-gparotation gcc python3-dev)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# qmethod from CRAN through R's own configured repository (no host name is written here).
if ! Rscript -e 'quit(status = !requireNamespace("qmethod", quietly = TRUE))' >/dev/null 2>&1; then
  echo "setup: installing R package qmethod from CRAN"
  $SUDO Rscript -e '
    r <- getOption("repos")
    if (is.null(r) || length(r) == 0 || all(r %in% c("", "@CRAN@"))) {
      message("No CRAN mirror is configured for R. Set one, e.g. add options(repos = c(CRAN = \"<your mirror URL>\")) ",
              "to ~/.Rprofile or /etc/R/Rprofile.site, or run chooseCRANmirror() once, then re-run this set-up.")
      quit(status = 3)
    }
    install.packages("qmethod", quiet = TRUE)
    if (!requireNamespace("qmethod", quietly = TRUE)) quit(status = 4)'
fi

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
# (checked from another directory: from here, ./qvalid would be importable without any install)
here=$(pwd -P)
if [ ! -x .venv/bin/qvalid ] || ! (cd / && "$here/.venv/bin/python" -c \
     "import os, sys, qvalid; sys.exit(os.path.realpath(qvalid.__file__) != '$here/qvalid/__init__.py')") >/dev/null 2>&1
then
  echo "setup: installing qvalid (editable) into .venv"
  .venv/bin/pip install -q --no-deps --no-build-isolation -e . >/dev/null
fi
# The compiled kernels (qvalid/core/ckernels.c, built by pip through setup.py): rebuilt when missing or older than
# their source. Without them qvalid runs on its numpy code (the same bits, slower); tests/test_kernels.py fails in CI
# when they are missing.
so=$(ls qvalid/core/ckernels.*.so 2>/dev/null | head -n 1 || true)
if [ -z "$so" ] || [ qvalid/core/ckernels.c -nt "$so" ] || [ setup.py -nt "$so" ]; then
  echo "setup: building qvalid's compiled kernels"
  .venv/bin/pip install -q --no-deps --no-build-isolation -e . >/dev/null
fi
