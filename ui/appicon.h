#pragma once

#include <QIcon>

namespace poolscope::ui {

// The application icon, painted (the same drawing as resources/icons/poolscope.svg, which the
// .desktop file uses) so that no SVG image plugin is needed at run time.
QIcon applicationIcon();

} // namespace poolscope::ui
