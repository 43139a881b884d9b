#include "app/commandline.h"

namespace poolscope::app {

int runSandboxCommand(const QStringList &)
{
    return ExitFailure;
}

} // namespace poolscope::app
