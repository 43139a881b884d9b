#include "app/commandline.h"

namespace poolscope::app {

int runBenchCommand(const QStringList &)
{
    return ExitFailure;
}

} // namespace poolscope::app
