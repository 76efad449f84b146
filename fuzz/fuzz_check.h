// FUZZ_CHECK(cond): the fuzz targets' assertion. Aborts (which libFuzzer
// reports as a crash, with the input saved) and names the broken invariant.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                              \
    }                                                                            \
  } while (false)
