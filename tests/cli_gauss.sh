#!/usr/bin/env bash
# CLI contract of `normality`, `mvnormality` and `gauss`: reference values
# through the JSON the commands print (scipy / R values of ecosystem.md
# section 2.3, also used in test_normality.c and test_mvnormality.c), the
# exact key sets, outputs of a gauss run, and error cases: each exactly one
# line on stderr and a non-zero exit.
# usage: cli_gauss.sh HICACHE DATA_DIR SOURCE_DIR
set -u
HC=$1
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

source "$(dirname "$0")/lib_cli.sh"

# value KEY FILE: the number printed for "KEY" by cJSON_Print
value() { awk -v k="\"$1\":" '$1 == k { v = $2; sub(/,$/, "", v); print v }' "$2"; }

# close KEY FILE WANT TOL: |got - want| <= TOL
close() {
  local got; got=$(value "$1" "$2")
  if [ -z "$got" ] || ! awk -v g="$got" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
    fail "$2: $1 = '$got', want $3 +- $4"
  else
    echo "ok: $2: $1 = $got"
  fi
}

# keys FILE: the sorted key list of a flat JSON object
keys() { grep -o '^[[:space:]]*"[a-z0-9_]*":' "$1" | tr -d ' \t":' | sort | tr '\n' ' '; }

# ---- normality: x1 (scipy TestShapiro), with a header and a second column (x2)
{
  echo "x1,x2"
  paste -d, <(tr ' ' '\n' <<<"0.11 7.87 4.61 10.14 7.95 3.14 0.46 4.43 0.21 4.75 0.71 1.52 3.24 0.93 0.42 4.97 9.53 4.55 0.47 6.66") \
            <(tr ' ' '\n' <<<"1.36 1.14 2.92 2.55 1.46 1.06 5.27 -1.11 3.48 1.10 0.88 -0.51 1.46 0.52 6.20 1.69 0.08 3.67 2.81 3.49")
} > x.csv
if "$HC" normality --csv x.csv > n1.json 2>err.txt; then
  close n n1.json 20 0
  close g1 n1.json 0.4860007806 1e-9
  close g2 n1.json -0.9532292834 1e-9
  close jb n1.json 1.5445275850 1e-9
  close jb_p n1.json 0.4619660883 1e-9
  close skew_z n1.json 1.0680136947 1e-9
  close kurt_z n1.json -1.0035604896 1e-9
  close k2 n1.json 2.1477869083 1e-9
  close k2_p n1.json 0.3416756259 1e-9
  close sw_w n1.json 0.90047299861907959 1e-6
  close sw_p n1.json 0.042089745402336121 1e-5
  close ad_a2 n1.json 0.6793295266 1e-9
  close ad_astar n1.json 0.7086256125 1e-9
  close ad_p n1.json 0.06440888904 1e-10
  want="ad_a2 ad_astar ad_p g1 g2 jb jb_p k2 k2_p kurt_z n skew_z sw_p sw_w "
  [ "$(keys n1.json)" = "$want" ] || fail "normality keys: '$(keys n1.json)', want '$want'"
else
  fail "normality --csv x.csv: $(cat err.txt)"
fi
# the second column, by header name and by index: x2's values
for col in x2 1; do
  if "$HC" normality --csv x.csv --column $col > n2.json 2>err.txt; then
    close sw_w n2.json 0.9590270 1e-6
    close sw_p n2.json 0.52460 1e-5
    close ad_a2 n2.json 0.3777753309 1e-9
    close g1 n2.json 0.5764601819 1e-9
    close k2 n2.json 1.8934554867 1e-9
  else
    fail "normality --column $col: $(cat err.txt)"
  fi
done

# ---- mvnormality: iris setosa (R's iris[1:50, 1:4]), covariance divisor n
cat > setosa.csv <<'EOF'
sepal_length,sepal_width,petal_length,petal_width
5.1,3.5,1.4,0.2
4.9,3.0,1.4,0.2
4.7,3.2,1.3,0.2
4.6,3.1,1.5,0.2
5.0,3.6,1.4,0.2
5.4,3.9,1.7,0.4
4.6,3.4,1.4,0.3
5.0,3.4,1.5,0.2
4.4,2.9,1.4,0.2
4.9,3.1,1.5,0.1
5.4,3.7,1.5,0.2
4.8,3.4,1.6,0.2
4.8,3.0,1.4,0.1
4.3,3.0,1.1,0.1
5.8,4.0,1.2,0.2
5.7,4.4,1.5,0.4
5.4,3.9,1.3,0.4
5.1,3.5,1.4,0.3
5.7,3.8,1.7,0.3
5.1,3.8,1.5,0.3
5.4,3.4,1.7,0.2
5.1,3.7,1.5,0.4
4.6,3.6,1.0,0.2
5.1,3.3,1.7,0.5
4.8,3.4,1.9,0.2
5.0,3.0,1.6,0.2
5.0,3.4,1.6,0.4
5.2,3.5,1.5,0.2
5.2,3.4,1.4,0.2
4.7,3.2,1.6,0.2
4.8,3.1,1.6,0.2
5.4,3.4,1.5,0.4
5.2,4.1,1.5,0.1
5.5,4.2,1.4,0.2
4.9,3.1,1.5,0.2
5.0,3.2,1.2,0.2
5.5,3.5,1.3,0.2
4.9,3.6,1.4,0.1
4.4,3.0,1.3,0.2
5.1,3.4,1.5,0.2
5.0,3.5,1.3,0.3
4.5,2.3,1.3,0.3
4.4,3.2,1.3,0.2
5.0,3.5,1.6,0.6
5.1,3.8,1.9,0.4
4.8,3.0,1.4,0.3
5.1,3.8,1.6,0.2
4.6,3.2,1.4,0.2
5.3,3.7,1.5,0.2
5.0,3.3,1.4,0.2
EOF
if "$HC" mvnormality --csv setosa.csv > mv.json 2>err.txt; then
  close n mv.json 50 0
  close p mv.json 4 0
  close mardia_skew mv.json 25.6643445196297790 1e-8
  close mardia_skew_p mv.json 0.1771858844676516 1e-9
  close mardia_skew_small mv.json 27.8597282074535322 1e-8
  close mardia_skew_small_p mv.json 0.1127617045830301 1e-9
  close mardia_kurt_z mv.json 1.2949922371160574 1e-9
  close mardia_kurt_p mv.json 0.1953229074419343 1e-9
  close hz mv.json 0.9488453160016581 1e-9
  close hz_p mv.json 0.0499535561792257 1e-9
  want="hz hz_p mardia_kurt_p mardia_kurt_z mardia_skew mardia_skew_p mardia_skew_small mardia_skew_small_p n p "
  [ "$(keys mv.json)" = "$want" ] || fail "mvnormality keys: '$(keys mv.json)', want '$want'"
else
  fail "mvnormality --csv setosa.csv: $(cat err.txt)"
fi
"$HC" mvnormality --help | grep -q "divisor n" || fail "mvnormality --help does not state the covariance divisor n"
for cmd in normality mvnormality gauss; do
  "$HC" $cmd --help | grep -q "^usage: hicache $cmd" || fail "hicache $cmd --help"
done

# ---- error cases: one line on stderr, exit 1 (usage errors exit 2)
EXPECT_RC=1 expect_fail "normality: missing CSV" "nope.csv" "$HC" normality --csv nope.csv
printf 'a\n1\n2\nx7\n4\n' > bad.csv
EXPECT_RC=1 expect_fail "normality: non-numeric cell" "line 4" "$HC" normality --csv bad.csv
printf '1\n2\n3\n4\n5\n' > short.csv
EXPECT_RC=1 expect_fail "normality: too few rows" "need n >= 8" "$HC" normality --csv short.csv
EXPECT_RC=1 expect_fail "normality: column out of range" "--column 2 out of range" "$HC" normality --csv x.csv --column 2
EXPECT_RC=1 expect_fail "normality: unknown column name" "no such column" "$HC" normality --csv x.csv --column x3
printf 'v\n1\n2\n3\nnan\n5\n6\n7\n8\n' > nan.csv
EXPECT_RC=1 expect_fail "normality: non-finite value" "not finite" "$HC" normality --csv nan.csv
printf '1\n1\n1\n1\n1\n1\n1\n1\n1\n' > const.csv
EXPECT_RC=1 expect_fail "normality: constant data" "constant" "$HC" normality --csv const.csv
EXPECT_RC=2 expect_fail "normality: no --csv" "--csv FILE is required" "$HC" normality
EXPECT_RC=1 expect_fail "normality: bad seed" "--seed: 'x' is not an integer" "$HC" normality --csv x.csv --seed x
EXPECT_RC=1 expect_fail "mvnormality: missing CSV" "nope.csv" "$HC" mvnormality --csv nope.csv
head -4 setosa.csv > few.csv
EXPECT_RC=1 expect_fail "mvnormality: too few rows" "need n > p" "$HC" mvnormality --csv few.csv
printf '1,2\n2,4\n3,6\n4,8\n5,10\n' > collinear.csv
EXPECT_RC=1 expect_fail "mvnormality: singular covariance" "singular" "$HC" mvnormality --csv collinear.csv

EXPECT_RC=1 expect_fail "gauss: missing trajectory" "nope.h5" "$HC" gauss --traj nope.h5 -o g
[ -e g/gauss.csv ] && fail "a failed gauss left g/gauss.csv"
EXPECT_RC=2 expect_fail "gauss: no -o" "-o DIR is required" "$HC" gauss --traj nope.h5
EXPECT_RC=1 expect_fail "gauss: bad order" "--order: 4 out of range" "$HC" gauss --traj nope.h5 -o g --order 4

# ---- gauss happy path on a small Gaussian-process trajectory
if "$HC" synth -o gp.h5 --kind gp --clusters 0 --tokens 256 --channels 8 --steps 5 --modules 2 >/dev/null \
   && "$HC" gauss --traj gp.h5 -o g --sample 200 --proj 4 --qq-proj 1 > out.txt 2>err.txt; then
  grep -q "4 (module, order) results from 1 file" out.txt || fail "gauss stdout: $(cat out.txt)"
  for f in gauss.csv summary.json summary.md; do [ -s "g/$f" ] || fail "gauss: g/$f missing"; done
  head -1 g/gauss.csv | grep -qx "file,module,order,scope,step,set,stat,value" || fail "gauss.csv header"
  grep -q "^| gp.h5 | dit/0/mlp | 2 | 3 |" g/summary.md || fail "summary.md row for dit/0/mlp order 2"
  [ -s g/fig/f0-gp-dit_0_attn-o1_qq.gp ] && [ -s g/fig/f0-gp-dit_0_attn-o1_qq.csv ] || fail "gauss: Q-Q .gp/.csv missing"
  if need "gnuplot-nox (gnuplot)" command -v gnuplot; then
    [ -s g/fig/f0-gp-dit_0_attn-o1_hist.png ] && [ -s g/fig/f0-gp-dit_0_attn-o1_hist.pdf ] || fail "gauss: figures not rendered"
    # the scripts regenerate the figures from their directory
    (cd g/fig && rm f0-gp-dit_0_attn-o1_qq.png && gnuplot f0-gp-dit_0_attn-o1_qq.gp && [ -s f0-gp-dit_0_attn-o1_qq.png ]) \
      || fail "gnuplot f0-gp-dit_0_attn-o1_qq.gp in g/fig"
  fi
  # without gnuplot on PATH: one warning, .gp and .csv still written
  if PATH=/nonexistent "$HC" gauss --traj gp.h5 -o g2 --sample 200 --proj 4 --modules 'dit/0/attn' --order 1 >out.txt 2>err.txt; then
    [ "$(wc -l <err.txt)" -eq 1 ] && grep -q "warning: gnuplot not found" err.txt || fail "no-gnuplot warning: $(cat err.txt)"
    [ -s g2/fig/f0-gp-dit_0_attn-o1_qq.gp ] && [ ! -e g2/fig/f0-gp-dit_0_attn-o1_qq.png ] || fail "no-gnuplot outputs"
  else
    fail "gauss without gnuplot: $(cat err.txt)"
  fi
  EXPECT_RC=1 expect_fail "gauss: no module matches" "no feature dataset matches --modules 'single/*'" \
    "$HC" gauss --traj gp.h5 -o g3 --modules 'single/*'
else
  fail "gauss happy path: $(cat err.txt)"
fi
ls -R | grep -q '\.partial$' && fail "a .partial file was left behind"

finish
