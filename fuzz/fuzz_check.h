// FUZZ_CHECK: an invariant a fuzz target asserts beyond "does not crash". A
// violation prints the condition and aborts, which libFuzzer reports like a
// crash and saves the input that caused it (crash-<sha1>).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                              \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
