# Replay of the fuzz corpora and crash repros in `make test`, with the normal
# compiler and no libFuzzer: tests/fuzz/fuzz_<x>.c is linked with replay_main.c
# into replay_fuzz_<x>, which feeds LLVMFuzzerTestOneInput every file of
# tests/fuzz/corpus/fuzz_<x>/ and tests/fuzz/crashes/fuzz_<x>/ (ASan/UBSan catch
# what the fuzzer found). Included from tests/CMakeLists.txt.
file(GLOB TSR_FUZZ_REPLAY_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${TSR_FUZZ_REPLAY_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(replay_${name} ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.c)
  target_compile_options(replay_${name} PRIVATE ${TSR_WARNINGS})
  target_link_libraries(replay_${name} PRIVATE tessera_lib)
  add_test(NAME fuzz/replay_${name}
    COMMAND replay_${name} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name}
            ${CMAKE_SOURCE_DIR}/tests/fuzz/crashes/${name})
  # same environment as the unit tests (TSR_TEST_ENV from tests/CMakeLists.txt)
  set_property(TEST fuzz/replay_${name} PROPERTY ENVIRONMENT ${TSR_TEST_ENV})
endforeach()
