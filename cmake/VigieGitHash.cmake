# The git hash is read at build time (not configure time) so provenance never goes stale.
add_custom_target(vigie_git_hash
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/generated/vigie/GitHash.hpp
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/WriteGitHash.cmake
  BYPRODUCTS ${CMAKE_BINARY_DIR}/generated/vigie/GitHash.hpp
  COMMENT "Recording the git hash")
