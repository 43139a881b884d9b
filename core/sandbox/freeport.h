#pragma once

#include <QString>

#include <vector>

namespace poolscope::sandbox {

// Asks the kernel for `count` distinct free TCP ports on 127.0.0.1 (bind to port 0, read the
// port back; all sockets stay open until every port is known, so they differ). The ports are
// free at that moment only: a caller that loses the race must retry with new ones.
std::vector<int> findFreePorts(int count, QString *error);

} // namespace poolscope::sandbox
