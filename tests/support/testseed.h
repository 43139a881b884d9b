#pragma once

#include <QRandomGenerator>

namespace poolscope::testing {

// A generator for a test's random moments: seeded from POOLSCOPE_TEST_SEED when it is set (to
// replay a run), else at random; the seed is printed either way, so a failure can be replayed.
QRandomGenerator seededRandom();

} // namespace poolscope::testing
