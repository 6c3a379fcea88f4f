# shellcheck shell=bash
# Installs, from the package registries only, the tools the wasm builds need. Sourced by the
# scripts that build the npm package and the worker; every function is idempotent, so a machine
# that already has the tool at the right version does nothing.

# The wasm-bindgen version pinned in Cargo.lock: the CLI must match the crate exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm32_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
}

# wasm-bindgen-cli at exactly the locked version, built from crates.io (no prebuilt download).
# No --locked: its own lockfile pins a yanked crate.
ensure_wasm_bindgen_cli() {
  local want
  want=$(wasm_bindgen_version)
  if [ -z "$want" ]; then
    echo "wasm-bindgen is not in Cargo.lock" >&2
    return 1
  fi
  if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$want" ]; then
    echo "installing wasm-bindgen-cli $want (builds from source, a few minutes)"
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

# worker-build for the Cloudflare Worker; told where esbuild, wasm-bindgen and wasm-opt are so it
# downloads nothing.
WORKER_BUILD_VERSION=0.8.7
ensure_worker_build() {
  if ! command -v worker-build >/dev/null || ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
    echo "installing worker-build $WORKER_BUILD_VERSION (builds from source, a few minutes)"
    cargo install worker-build --version "$WORKER_BUILD_VERSION"
  fi
}

# npm packages of a folder, from its package-lock.json. Skipped when node_modules was installed
# after the lockfile last changed (npm's own node_modules/.package-lock.json records that), so a
# warm machine does not reinstall wrangler on every run.
ensure_node_modules() {
  local dir=$1
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  else
    (cd "$dir" && npm install --no-audit --no-fund)
  fi
}
