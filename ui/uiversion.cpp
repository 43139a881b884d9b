#include "ui/uiversion.h"

#include <qcustomplot.h>

namespace poolscope::ui {

QString guiLibraryVersions()
{
    return QStringLiteral("Qt %1, QCustomPlot %2")
        .arg(QString::fromLatin1(qVersion()), QString::fromLatin1(QCUSTOMPLOT_VERSION_STR));
}

} // namespace poolscope::ui
