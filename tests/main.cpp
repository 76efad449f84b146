// The test binary: every tests/*.cpp file registers its doctest cases here.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
