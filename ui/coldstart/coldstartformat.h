#pragma once

#include <QColor>
#include <QString>

namespace poolscope::ui::coldstartformat {

// A duration for the page's tables: one decimal under 10 ms, whole milliseconds above.
inline QString ms(double value)
{
    return QString::number(value, 'f', value < 10 ? 1 : 0) + QStringLiteral(" ms");
}

// The verdict's colour, the same in the summary and the history: pass green, warn orange, fail
// red.
inline QColor verdictColor(const QString &verdict)
{
    if (verdict == QLatin1String("pass"))
        return QColor(0x27, 0xae, 0x60);
    if (verdict == QLatin1String("warn"))
        return QColor(0xd3, 0x54, 0x00);
    return QColor(0xc0, 0x39, 0x2b);
}

} // namespace poolscope::ui::coldstartformat
