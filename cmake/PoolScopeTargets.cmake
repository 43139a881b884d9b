# Project-wide strictness, applied per target (never through global flags) so that the core/GUI
# boundary and warning levels stay visible in each target's own definition.
#
# poolscope_target_defaults(<target> [USES_QCUSTOMPLOT])
# QCustomPlot's header uses the `signals` keyword and `foreach`, so targets that include it keep
# both; everything else is built with QT_NO_KEYWORDS and QT_NO_FOREACH.
function(poolscope_target_defaults target)
    cmake_parse_arguments(ARG "USES_QCUSTOMPLOT" "" "" ${ARGN})
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(POOLSCOPE_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_compile_definitions(${target} PRIVATE
        QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_URL_CAST_FROM_STRING QT_USE_QSTRINGBUILDER)
    if(NOT ARG_USES_QCUSTOMPLOT)
        target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS QT_NO_FOREACH)
    endif()
endfunction()

# poolscope_add_test(NAME <name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT <s>])
# One Qt Test executable = one CTest entry; GUI-less by default, offscreen for GUI tests. Every
# test runs with a fresh HOME/XDG_CONFIG_HOME of its own (tests/support/isolatedhome.cpp, below
# <build>/test-home/<name>), so saved settings never leak between runs or into the user's home.
function(poolscope_add_test)
    cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
    if(ARG_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "poolscope_add_test: unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
    endif()
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    add_executable(${ARG_NAME} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/support/isolatedhome.cpp)
    poolscope_target_defaults(${ARG_NAME})
    target_link_libraries(${ARG_NAME} PRIVATE Qt6::Test ${ARG_LIBS})
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
    set_tests_properties(${ARG_NAME} PROPERTIES
        TIMEOUT ${ARG_TIMEOUT}
        LABELS "${ARG_LABELS}"
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;XDG_RUNTIME_DIR=/tmp/runtime-poolscope;POOLSCOPE_TEST_HOME_ROOT=${PROJECT_BINARY_DIR}/test-home/${ARG_NAME}")
endfunction()
