#!/usr/bin/env bash
# The main job on a study (default: the bundled lipset study): validate it, analyse it, cross-check with R.
set -euo pipefail
cd "$(dirname "$0")/.."
study=${1:-reference/data/lipset/lipset.csv}
q=.venv/bin/qvalid
echo "== qvalid validate $study"
$q validate "$study"
echo
echo "== qvalid analyze $study -k 3   (qmethod flavour: PCA + varimax, as R qmethod's defaults)"
$q analyze "$study" -k 3
echo
echo "== qvalid analyze $study -k 3 --extraction centroid"
$q analyze "$study" -k 3 --extraction centroid | sed -n '1,14p'
if $q crosscheck --help >/dev/null 2>&1; then
  echo
  echo "== qvalid crosscheck $study -k 3   (live comparison with R qmethod)"
  $q crosscheck "$study" -k 3
  echo
  echo "== qvalid crosscheck $study -k 3 --extraction centroid"
  $q crosscheck "$study" -k 3 --extraction centroid
fi
echo
echo "== qvalid flag reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42   (NAV 2023, Tabell 5)"
$q flag reference/data/nav_aap_2023/loadings_published.csv --threshold 0.42
