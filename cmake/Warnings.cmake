include_guard(GLOBAL)

# One INTERFACE target carries the warning flags; every project target links it.
add_library(streamcheck_warnings INTERFACE)
target_compile_options(streamcheck_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${STREAMCHECK_WERROR}>:-Werror>)
