#!/usr/bin/env bash
# Build the one-folder PyInstaller app into build/bundle/dist/traycred/ and smoke-test it:
#   packaging/build_bundle.sh            (uses $PYTHON, else .venv/bin/python, else python3)
# The smoke test runs the bundled executable only (no Python of ours on its path), in a
# throw-away HOME: `--version`, `profiles --json` on a sample config (every kind it should
# classify), and one real STS call through the bundled botocore against the local emulator.
# Prints the bundle's size and the build time; exits non-zero if any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
OUT=$(realpath -m "${BUNDLE_DIR:-build/bundle}")

if [ "$(uname -s)" = Linux ] && ! command -v objdump >/dev/null; then
  echo "PyInstaller needs objdump on Linux: install binutils (apt-get install binutils)." >&2
  exit 1
fi
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  echo "== installing PyInstaller (the 'bundle' extra)"
  "$PY" -m pip install -q 'pyinstaller>=6.10'
fi

echo "== building with $("$PY" -m PyInstaller --version) into $OUT/dist/traycred"
started=$(date +%s%N)
rm -rf "$OUT/dist/traycred"
"$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$OUT/dist" --workpath "$OUT/work" packaging/traycred.spec >"$OUT.log" 2>&1 || {
  tail -40 "$OUT.log"
  echo "build failed; full log: $OUT.log" >&2
  exit 1
}
finished=$(date +%s%N)
APP=$OUT/dist/traycred/traycred
elapsed_ms=$(((finished - started) / 1000000))
printf 'built in %d.%d s; bundle size %s (%s files)\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) \
  "$(du -sh "$OUT/dist/traycred" | cut -f1)" "$(find "$OUT/dist/traycred" -type f | wc -l)"

echo "== smoke test"
SMOKE=$(mktemp -d "${TMPDIR:-/tmp}/traycred-smoke.XXXXXX")
EMU_PID=
cleanup() {
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
  rm -rf "$SMOKE"
}
trap cleanup EXIT
mkdir -p "$SMOKE/home/.aws"
chmod 700 "$SMOKE/home" "$SMOKE/home/.aws"
cat >"$SMOKE/home/.aws/config" <<'EOF'
[default]
region = us-east-1

[profile ci]
region = us-east-1

[profile deploy]
role_arn = arn:aws:iam::111111111111:role/deploy
source_profile = ci

[sso-session corp]
sso_start_url = https://traycred-demo.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile sso-dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly

[profile sso-old]
sso_start_url = https://traycred-demo.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly

[profile proc]
credential_process = /bin/true

[profile loop-a]
role_arn = arn:aws:iam::111111111111:role/x
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::111111111111:role/x
source_profile = loop-a
EOF
# The emulator's demo IAM user `ci` (not a real key).
cat >"$SMOKE/home/.aws/credentials" <<'EOF'
[ci]
aws_access_key_id = AKIAEXAMPLECIUSER001
aws_secret_access_key = cIuSeR/SecretAccessKey+ForTraycredDemo02
EOF

# Only the bundle: a clean environment, no PYTHONPATH, no venv on PATH.
app() {
  env -i PATH=/usr/bin:/bin HOME="$SMOKE/home" LANG=C.UTF-8 \
    XDG_RUNTIME_DIR="$SMOKE/home" TRAYCRED_RUNTIME_DIR="$SMOKE/home/run" \
    PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring "$@" "$APP" "${ARGS[@]}"
}

ARGS=(--version)
version=$(app)
echo "\$ traycred --version -> $version"
case "$version" in "traycred "[0-9]*) ;; *) echo "unexpected --version output" >&2; exit 1 ;; esac

ARGS=(profiles)
echo "\$ traycred profiles"
app | sed 's/^/    /'
ARGS=(profiles --json)
app >"$SMOKE/profiles.json"
"$PY" - "$SMOKE/profiles.json" <<'EOF'
import json, sys
kinds = {p["name"]: p["kind"] for p in json.load(open(sys.argv[1]))}
expected = {
    "ci": "static-keys", "deploy": "assume-role", "sso-dev": "sso-session",
    "sso-old": "sso-legacy", "proc": "process", "loop-a": "invalid", "loop-b": "invalid",
}
wrong = {n: (kinds.get(n), k) for n, k in expected.items() if kinds.get(n) != k}
if wrong:
    sys.exit(f"profiles gave the wrong kinds (got, expected): {wrong}")
print(f"profiles --json: all {len(expected)} kinds as expected")
EOF

# One real AWS call through the bundled botocore (STS model, endpoints, SigV4).
"$PY" -m traycred.emulator >"$SMOKE/emulator.out" 2>&1 &
EMU_PID=$!
for _ in $(seq 100); do
  [ -s "$SMOKE/emulator.out" ] && break
  sleep 0.05
done
URL=$(head -1 "$SMOKE/emulator.out")
ARGS=(env deploy --format json)
app AWS_ENDPOINT_URL="$URL" AWS_DEFAULT_REGION=us-east-1 >"$SMOKE/env.json" 2>"$SMOKE/env.err" || {
  cat "$SMOKE/env.err" >&2
  exit 1
}
"$PY" - "$SMOKE/env.json" <<'EOF'
import json, sys
values = json.load(open(sys.argv[1]))
assert values["AWS_ACCESS_KEY_ID"].startswith("ASIA"), values["AWS_ACCESS_KEY_ID"]
assert values["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
print(f"env deploy: AssumeRole via the emulator gave {values['AWS_ACCESS_KEY_ID'][:4]}... "
      f"until {values['AWS_CREDENTIAL_EXPIRATION']}")
EOF

for plugin in platforms/libqxcb.so platforms/libqoffscreen.so; do
  test -f "$OUT/dist/traycred/_internal/PySide6/Qt/plugins/$plugin" || {
    echo "missing Qt plugin $plugin" >&2
    exit 1
  }
done
echo "Qt plugins xcb and offscreen present"
echo "smoke test passed: $APP"
