# Warning and hardening flags of DESIGN.md, each probed before use.
include(CheckCCompilerFlag)
include(CheckLinkerFlag)
include(CheckPIESupported)
check_pie_supported()

function(glexec_add_c_flags)
  foreach(flag IN LISTS ARGN)
    string(MAKE_C_IDENTIFIER "HAVE_CFLAG${flag}" var)
    check_c_compiler_flag("${flag}" ${var})
    if(${var})
      add_compile_options("${flag}")
    endif()
  endforeach()
endfunction()

function(glexec_add_link_flags)
  foreach(flag IN LISTS ARGN)
    string(MAKE_C_IDENTIFIER "HAVE_LDFLAG${flag}" var)
    check_linker_flag(C "${flag}" ${var})
    if(${var})
      add_link_options("${flag}")
    endif()
  endforeach()
endfunction()

add_compile_definitions(_GNU_SOURCE)

glexec_add_c_flags(
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
  -Wformat=2 -Wformat-nonliteral -Wimplicit-fallthrough -Wvla -Wundef -Wwrite-strings
  -Wno-missing-field-initializers
  # Log and error messages are bounded on purpose; truncating them is the intended behaviour.
  -Wno-format-truncation
  -Werror=implicit-function-declaration -Werror=return-type -Werror=incompatible-pointer-types
  -Werror=int-conversion -Werror=format-security
  -fstack-protector-strong -fstack-clash-protection -fcf-protection -fno-strict-overflow
  -fno-common -ftrivial-auto-var-init=zero)

if(GLEXEC_WERROR)
  add_compile_options(-Werror)
endif()

# _FORTIFY_SOURCE only does something when optimising.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug" AND NOT GLEXEC_SANITIZE)
  check_c_compiler_flag("-D_FORTIFY_SOURCE=3" HAVE_FORTIFY3)
  add_compile_options(-U_FORTIFY_SOURCE)
  if(HAVE_FORTIFY3)
    add_compile_options(-D_FORTIFY_SOURCE=3)
  else()
    add_compile_options(-D_FORTIFY_SOURCE=2)
  endif()
endif()

glexec_add_link_flags(-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)

if(GLEXEC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer builds (clang): instrument every library for coverage; the fuzz targets add
# -fsanitize=fuzzer themselves (tests/fuzz/CMakeLists.txt).
if(GLEXEC_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
