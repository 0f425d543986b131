include_guard(GLOBAL)

# One INTERFACE target carries the warning flags; every project target links it.
# Not -Wnull-dereference: with GCC 12 at -O2 it fires inside libstdc++ itself
# (istreambuf_iterator), so under -Werror it only produces false alarms.
add_library(streamcheck_warnings INTERFACE)
target_compile_options(streamcheck_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${STREAMCHECK_WERROR}>:-Werror>)
