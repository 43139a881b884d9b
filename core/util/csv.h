#pragma once

#include <QString>

namespace poolscope {

// One CSV field (RFC 4180): quoted, with inner quotes doubled, only when it holds a comma, a
// quote or a line break; as it is otherwise. Every CSV export (the sample command, the charts,
// the event log, the cold-start and load-demo pages) goes through this one function.
inline QString csvField(const QString &value)
{
    if (!value.contains(QLatin1Char(',')) && !value.contains(QLatin1Char('"'))
        && !value.contains(QLatin1Char('\n')) && !value.contains(QLatin1Char('\r')))
        return value;
    QString quoted = value;
    quoted.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

} // namespace poolscope
