#include "tests/support/testseed.h"

#include <QtGlobal>

namespace poolscope::testing {

QRandomGenerator seededRandom()
{
    bool given = false;
    const quint32 seed = quint32(qEnvironmentVariableIntValue("POOLSCOPE_TEST_SEED", &given));
    const quint32 used = given ? seed : QRandomGenerator::global()->generate();
    qInfo("random moments drawn with POOLSCOPE_TEST_SEED=%u", used);
    return QRandomGenerator(used);
}

} // namespace poolscope::testing
