# CMake toolchain file for llama.cpp in Trinity's per-board aarch64 release builds
# (`cargo xtask package <board>`), used through cmake-rs's
# CMAKE_TOOLCHAIN_FILE_aarch64_unknown_linux_gnu.
#
# Why a toolchain file: llama-cpp-sys-2's build script pins ggml's CPU architecture to
# `armv8-a` on aarch64 Linux (a `-DGGML_CPU_ARM_ARCH=armv8-a` that overrides any GGML_*
# environment variable) and turns `-C target-cpu=NAME` into a `-march=NAME` gcc rejects.
# The board's CPU is what a toolchain file describes, and CMake reads it inside
# `project()`, after the command line's -D values: a FORCEd cache entry here is the value
# ggml sees. TRINITY_LLAMA_CPU_ARCH comes from the board profile's `llama_cpu_arch`
# (boards/profiles/*.toml); unset, the crate's armv8-a stands.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

# The Debian cross toolchain (gcc-aarch64-linux-gnu), also what cross's images carry.
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(DEFINED ENV{TRINITY_LLAMA_CPU_ARCH} AND NOT "$ENV{TRINITY_LLAMA_CPU_ARCH}" STREQUAL "")
    set(GGML_CPU_ARM_ARCH "$ENV{TRINITY_LLAMA_CPU_ARCH}" CACHE STRING "ggml: CPU architecture for ARM (Trinity board profile)" FORCE)
endif()
