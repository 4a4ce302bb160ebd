# Build conventions shared by every module.
#
# anyarch_module(NAME DEPS <modules or targets>...)
#   One static library per directory of src/: every *.cc in the directory (recursively) that is
#   not a *_test.cc or *_fuzz.cc. Its *_test.cc files become one GoogleTest executable
#   anyarch_<NAME>_test, registered with CTest as unit.<NAME>. TEST_DEPS are linked into the
#   test executable only (e.g. anyarch_test_support, the helpers under tests/support).
set(ANYARCH_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

if(ANYARCH_FUZZ)
  # Every library is instrumented for coverage and checked by ASan/UBSan; fuzz/ links libFuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

if(ANYARCH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

function(anyarch_module NAME)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(lib_sources)
  set(test_sources)
  foreach(src IN LISTS all_sources)
    if(src MATCHES "_test\\.cc$")
      list(APPEND test_sources ${src})
    elseif(src MATCHES "_fuzz\\.cc$")
      # fuzz/ builds these.
    else()
      list(APPEND lib_sources ${src})
    endif()
  endforeach()
  set(target anyarch_${NAME})
  # tests/support checks that none of these links the test-only support library.
  set_property(GLOBAL APPEND PROPERTY ANYARCH_PRODUCTION_TARGETS ${target})
  set(dep_targets)
  foreach(dep IN LISTS ARG_DEPS)
    if(TARGET anyarch_${dep})
      list(APPEND dep_targets anyarch_${dep})
    else()
      list(APPEND dep_targets ${dep})
    endif()
  endforeach()
  if(lib_sources)
    add_library(${target} STATIC ${lib_sources})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(${target} PRIVATE ${ANYARCH_WARNINGS})
    target_link_libraries(${target} PUBLIC ${dep_targets})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${dep_targets})
  endif()
  if(test_sources)
    set(test_target anyarch_${NAME}_test)
    add_executable(${test_target} ${test_sources})
    target_compile_options(${test_target} PRIVATE ${ANYARCH_WARNINGS})
    set(test_dep_targets)
    foreach(dep IN LISTS ARG_TEST_DEPS)
      if(TARGET anyarch_${dep})
        list(APPEND test_dep_targets anyarch_${dep})
      else()
        list(APPEND test_dep_targets ${dep})
      endif()
    endforeach()
    target_link_libraries(${test_target} PRIVATE ${target} ${test_dep_targets} GTest::gtest
                          GTest::gmock GTest::gtest_main)
    add_test(NAME unit.${NAME} COMMAND ${test_target})
    set_tests_properties(unit.${NAME} PROPERTIES LABELS unit
                         ENVIRONMENT "ANYARCH_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endif()
endfunction()
