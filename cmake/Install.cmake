# `cmake --install`: the binary in bin/, the target specs and the comparison
# servers in share/streamcheck/targets/ (where an installed streamcheck looks
# first, cli/run_command.cc Root()), and a man page generated from --help by
# help2man (Debian package help2man) in share/man/man1/.
include(GNUInstallDirs)

install(TARGETS streamcheck RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/targets/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/streamcheck/targets
  PATTERN "__pycache__" EXCLUDE
  PATTERN "*.pyc" EXCLUDE)

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(HELP2MAN_FOUND TRUE)
endif()
streamcheck_require(HELP2MAN_FOUND "help2man (the man page)" "help2man")
set(STREAMCHECK_MAN_PAGE ${CMAKE_BINARY_DIR}/man/streamcheck.1)
add_custom_command(
  OUTPUT ${STREAMCHECK_MAN_PAGE}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
  COMMAND ${HELP2MAN} --no-info --section=1 --source=streamcheck --help-option=--help-all
          "--name=conformance harness for servers that stream LLM output"
          --include=${PROJECT_SOURCE_DIR}/cmake/streamcheck.h2m
          --output=${STREAMCHECK_MAN_PAGE} $<TARGET_FILE:streamcheck>
  DEPENDS streamcheck ${PROJECT_SOURCE_DIR}/cmake/streamcheck.h2m
  COMMENT "man page (help2man)")
add_custom_target(streamcheck_man ALL DEPENDS ${STREAMCHECK_MAN_PAGE})
install(FILES ${STREAMCHECK_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
