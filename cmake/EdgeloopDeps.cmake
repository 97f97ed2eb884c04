# Finds edgeloop's dependencies (Debian packages) and defines helpers.

find_package(Protobuf REQUIRED)
find_package(absl REQUIRED)
find_package(Threads REQUIRED)

# LibTorch is heavy: only targets that need it call edgeloop_use_torch(), which links it
# and reuses one precompiled <torch/torch.h> header.
find_package(Torch QUIET)
if(Torch_FOUND)
  message(STATUS "edgeloop: LibTorch ${Torch_VERSION} found")
  # Torch's flags (e.g. the C++11 ABI define) must be identical in every target that reuses
  # the precompiled header, so they are applied to all targets.
  separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  add_compile_options(${_torch_flags})
  add_library(edgeloop_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cc)
  target_link_libraries(edgeloop_torch_pch PUBLIC ${TORCH_LIBRARIES})
  target_precompile_headers(edgeloop_torch_pch PUBLIC <torch/torch.h>)
else()
  message(WARNING "edgeloop: LibTorch not found; run tools/setup.sh (package libtorch-dev)")
endif()

function(edgeloop_use_torch target)
  if(NOT Torch_FOUND)
    message(FATAL_ERROR "${target} needs LibTorch (Debian package libtorch-dev)")
  endif()
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM edgeloop_torch_pch)
endfunction()

# edgeloop_protoc(OUT_VAR PROTO [DEPENDS IMPORTED_PROTO...]) generates PROTO's C++ code
# (PROTO relative to the source root, e.g. search/search_state.proto) into the build tree,
# where it is included as "search/search_state.pb.h", and sets OUT_VAR to the .pb.cc to
# compile. DEPENDS names the .proto files PROTO imports (also relative to the source root).
function(edgeloop_protoc out_var proto)
  cmake_parse_arguments(P "" "" "DEPENDS" ${ARGN})
  get_filename_component(_dir ${proto} DIRECTORY)
  string(REGEX REPLACE "[.]proto$" "" _stem ${proto})
  set(_deps ${PROJECT_SOURCE_DIR}/${proto})
  foreach(_dep ${P_DEPENDS})
    list(APPEND _deps ${PROJECT_SOURCE_DIR}/${_dep})
  endforeach()
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/${_stem}.pb.cc ${PROJECT_BINARY_DIR}/${_stem}.pb.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/${_dir}
    COMMAND protobuf::protoc --cpp_out=${PROJECT_BINARY_DIR} -I ${PROJECT_SOURCE_DIR}
            ${PROJECT_SOURCE_DIR}/${proto}
    DEPENDS ${_deps} protobuf::protoc
    COMMENT "protoc ${proto}")
  # Generated code is not ours to warn about.
  set_source_files_properties(${PROJECT_BINARY_DIR}/${_stem}.pb.cc PROPERTIES COMPILE_OPTIONS
    -Wno-unused-parameter)
  set(${out_var} ${PROJECT_BINARY_DIR}/${_stem}.pb.cc PARENT_SCOPE)
endfunction()

# edgeloop_test(NAME SOURCES... LIBS ...) builds a GoogleTest binary registered with ctest.
include(GoogleTest)
function(edgeloop_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  # Where the sources and the built binaries are (tests/test_util.h; env vars override).
  target_compile_definitions(${name} PRIVATE
    EDGELOOP_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    EDGELOOP_BINARY_DIR_DEFAULT="${PROJECT_BINARY_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
