#!/usr/bin/env bash
# Install the Debian packages the project needs, only those that are missing.
#
# Every package is checked by the file a build actually uses, not only by a command on PATH:
# gcc-arm-none-eabi without libnewlib-arm-none-eabi has a compiler but no <string.h>, and clang
# without libclang-rt-14-dev has no libFuzzer runtime. Usage:
#   tools/install-system-deps.sh           install what is missing, then check again
#   tools/install-system-deps.sh --check   only report what is missing (exit 1 when something is)
#   tools/install-system-deps.sh --list    every package this script may install, one a line
set -euo pipefail

# Every Debian package the project installs, in one list (fresh-machine checks purge these).
PACKAGES=(gcc make gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
          qemu-system-arm clang libclang-rt-14-dev)
CHECK_ONLY=0
case "${1:-}" in
  --check) CHECK_ONLY=1 ;;
  --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check|--list] (got '$1')" >&2; exit 2 ;;
esac

has_cmd() { command -v "$1" >/dev/null 2>&1; }

# A C header the compiler $1 can include (the file a build reads, found the way the build finds it).
has_header() {
  has_cmd "$1" && printf '#include <%s>\nint fb_probe;\n' "$2" \
    | "$1" -x c -fsyntax-only - >/dev/null 2>&1
}

# A library file the compiler $1 links: -print-file-name echoes the bare name when it finds nothing.
has_libfile() {
  has_cmd "$1" || return 1
  local p
  p=$("$1" "${@:3}" -print-file-name="$2" 2>/dev/null || true)
  [ "$p" != "$2" ] && [ -f "$p" ]
}

missing_packages() {
  local m=()
  has_cmd gcc || m+=(gcc)
  has_cmd make || m+=(make)
  has_cmd arm-none-eabi-gcc || m+=(gcc-arm-none-eabi)
  has_cmd arm-none-eabi-size && has_cmd arm-none-eabi-nm || m+=(binutils-arm-none-eabi)
  # The firmware and the C codec include <string.h> and <stdint.h> for Cortex-M: newlib's headers.
  { has_header arm-none-eabi-gcc string.h && has_libfile arm-none-eabi-gcc libc.a -mcpu=cortex-m3 -mthumb; } \
    || m+=(libnewlib-arm-none-eabi)
  has_cmd qemu-system-arm || m+=(qemu-system-arm)
  has_cmd clang || m+=(clang)
  # The C codec's fuzz target links libFuzzer's runtime, which Debian 12 ships apart from clang.
  has_libfile clang "libclang_rt.fuzzer-$(uname -m).a" || m+=(libclang-rt-14-dev)
  printf '%s\n' "${m[@]}"
}

mapfile -t missing < <(missing_packages | sed '/^$/d' | sort -u)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$CHECK_ONLY" -eq 1 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Check again by the same files: a package that installed but does not provide them is an error.
mapfile -t still < <(missing_packages | sed '/^$/d' | sort -u)
if [ ${#still[@]} -ne 0 ]; then
  echo "error: still missing after install: ${still[*]} (the files the builds need are not there)" >&2
  exit 1
fi
