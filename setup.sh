#!/usr/bin/env bash
# Sets up a Debian 12 machine for Prongsai and builds it, then:
#   ./setup.sh serve [flags]   runs `prongsai serve --insecure-dev` on the
#                              embedded log (loopback only; see README.md for
#                              TLS and tokens)
#   ./setup.sh test            runs every test through ctest
#   ./setup.sh build           only installs and builds
#   ./setup.sh install [PKG..] only installs (the list above and PKG..)
# Installing is idempotent and quiet when every package is present.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  librdkafka-dev librocksdb-dev libabsl-dev libssl-dev
  libcpp-httplib-dev nlohmann-json3-dev libxlsxwriter-dev libspdlog-dev
  libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev kcat python3-grpcio python3-protobuf python3-yaml
  clang-14 libclang-rt-14-dev
  golang-go golang-golang-x-mod-dev
  # reports: Thai fonts; the browser tests
  fonts-thai-tlwg chromium
)

install_missing() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
        grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  # Node.js for the browser tests, from Debian unless one is already there.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/tmp/prongsai-apt.log 2>&1 || {
    cat /tmp/prongsai-apt.log
    exit 1
  }
}

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
}

# The browser tests' one dependency (playwright-core), from the lockfile.
install_browser_test_deps() {
  if [ ! -d tests/web/node_modules ]; then
    (cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

command="${1:-}"
case "$command" in
  serve)
    shift
    install_missing
    build
    # A development machine: plain TCP on loopback, no token needed.
    exec build/services/cli/prongsai serve --insecure-dev "$@"
    ;;
  test)
    install_missing
    install_browser_test_deps
    build
    exec ctest --test-dir build --output-on-failure -j"$(nproc)"
    ;;
  build)
    install_missing
    build
    ;;
  install)
    shift
    PACKAGES+=("$@")
    install_missing
    ;;
  *)
    echo "usage: ./setup.sh serve [prongsai serve flags] | test | build |" \
      "install [packages]" >&2
    exit 2
    ;;
esac
