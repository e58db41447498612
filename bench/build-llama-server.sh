#!/bin/bash
# Build llama.cpp's llama-server from the llama.cpp sources Trinity links (llama-cpp-sys-2's
# copy, which ships without the server) and with the CPU options of Trinity's own release
# build, for bench/llama_server.py (issue 15). The server's sources (tools/server, tools/ui)
# come from llama-cpp-python's sdist, as `cargo xtask bench` does for llama-bench: a
# llama.cpp a few weeks older than the crate's; it compiles against the crate's tree.
# Usage: cargo build --release -p trinity-runtime && bench/build-llama-server.sh DIR
#        (the binary: DIR/build/bin/llama-server; ~10 min on 2 cores)
#    or, for a board (an aarch64 build, as Trinity's `target/board/BOARD` release build has
#    it: the same CMake toolchain file and the board profile's llama_cpu_arch):
#        bench/build-llama-server.sh DIR pi5
set -euo pipefail
W=$1
BOARD=${2:-}
SDIST=llama_cpp_python-0.3.36
mkdir -p "$W"
W=$(cd "$W" && pwd)
SRC=$(cargo metadata --format-version 1 | python3 -c \
  'import json,sys; p=[p for p in json.load(sys.stdin)["packages"] if p["name"]=="llama-cpp-sys-2"][0]; print(p["manifest_path"].rsplit("/",1)[0] + "/llama.cpp")')
if [ -n "$BOARD" ]; then
  CACHE=$(ls target/board/"$BOARD"/aarch64-unknown-linux-gnu/release/build/llama-cpp-sys-2-*/out/build/CMakeCache.txt | head -1)
  ARCH=$(sed -n 's/^llama_cpu_arch *= *"\(.*\)"/\1/p' "boards/profiles/$BOARD.toml")
  export TRINITY_LLAMA_CPU_ARCH=$ARCH
  CROSS=(-DCMAKE_TOOLCHAIN_FILE="$PWD/boards/cmake/aarch64-linux-gnu.cmake")
else
  CACHE=$(ls target/release/build/llama-cpp-sys-2-*/out/build/CMakeCache.txt | head -1)
  CROSS=()
fi
[ -f "$W/$SDIST.tar.gz" ] || python3 -m pip download --no-deps --no-binary :all: -q -d "$W" llama-cpp-python==0.3.36
rm -rf "$W/src" && cp -r "$SRC" "$W/src"
tar xzf "$W/$SDIST.tar.gz" -C "$W" "$SDIST/vendor/llama.cpp/tools/server" "$SDIST/vendor/llama.cpp/tools/ui" \
  "$SDIST/vendor/llama.cpp/tools/mtmd" "$SDIST/vendor/llama.cpp/scripts/ui-assets.cmake"
# The server, its web UI and the multimodal library it links (whose memory report it reads)
# come from the sdist; llama.cpp itself, ggml and common are the crate's.
for t in server ui mtmd; do
  mkdir -p "$W/src/tools/$t" && cp -r "$W/$SDIST/vendor/llama.cpp/tools/$t/." "$W/src/tools/$t/"
done
# The one call into a newer common than the crate's: a UTF-8 path helper (Windows only).
sed -i 's/fs_open_ifstream(/std::ifstream(/' "$W/src/tools/server/server-mcp.cpp"
mkdir -p "$W/src/scripts" && cp "$W/$SDIST/vendor/llama.cpp/scripts/ui-assets.cmake" "$W/src/scripts/"
# The crate's tree keeps only some tools: build just the server and what it needs.
printf 'add_subdirectory(ui)\nadd_subdirectory(mtmd)\nadd_subdirectory(server)\n' > "$W/src/tools/CMakeLists.txt"
# Trinity's CPU options: every GGML_* of its llama.cpp build, its build type and flags.
mapfile -t OPTS < <(grep -E '^(GGML_[A-Z0-9_]*|CMAKE_BUILD_TYPE|CMAKE_C_FLAGS|CMAKE_CXX_FLAGS):' "$CACHE" \
  | grep -v 'INSTALL\|FOUND\|CCACHE' | sed 's/^\([^:]*\):[A-Z]*=\(.*\)$/-D\1=\2/')
cmake -S "$W/src" -B "$W/build" "${OPTS[@]}" "${CROSS[@]}" -DGGML_CCACHE=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF > "$W/configure.log"
cmake --build "$W/build" --target llama-server -j "$(nproc)"
echo "$W/build/bin/llama-server"
