#pragma once

#include <QString>

namespace poolscope::ui {

// Versions of the GUI libraries this build links, for `poolscope --version` and bug reports.
QString guiLibraryVersions();

} // namespace poolscope::ui
