# Writes OUTPUT, a header defining STREAMCHECK_GIT_REVISION (`git describe
# --always --dirty` of SOURCE_DIR, "unknown" outside a git checkout), only when
# it changes, so a build recompiles what includes it only after a commit.
# Run at build time: cmake -DSOURCE_DIR=.. -DOUTPUT=.. -P GitRevision.cmake
find_package(Git QUIET)
set(revision "unknown")
if(GIT_FOUND)
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --always --dirty --abbrev=10
    OUTPUT_VARIABLE described
    RESULT_VARIABLE status
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET)
  if(status EQUAL 0 AND NOT described STREQUAL "")
    set(revision "${described}")
  endif()
endif()
set(content "#define STREAMCHECK_GIT_REVISION \"${revision}\"\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
