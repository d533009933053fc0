# Warning flags, each checked with the compiler before it is added.
include(CheckCCompilerFlag)

function(ms_add_warning_flags)
  set(flags
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wformat=2
    -Wvla -Wnull-dereference -Wdouble-promotion -Wimplicit-fallthrough
    -Wold-style-definition -Wredundant-decls)
  foreach(flag IN LISTS flags)
    string(MAKE_C_IDENTIFIER "HAVE_FLAG${flag}" var)
    check_c_compiler_flag(${flag} ${var})
    if(${var})
      add_compile_options(${flag})
    endif()
  endforeach()
endfunction()
