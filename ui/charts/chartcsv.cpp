#include "ui/charts/chartcsv.h"

#include "core/util/csv.h"

#include <QDateTime>
#include <QString>

#include <algorithm>
#include <cmath>
#include <limits>

namespace poolscope::ui {

namespace {

QByteArray csvNumber(double value)
{
    if (!std::isfinite(value))
        return {};
    // Store values are floats: 7 significant digits is all they hold.
    return QByteArray::number(value, 'g', 9);
}

} // namespace

QByteArray pointsToCsv(const QStringList &columns, const QList<QList<TimePoint>> &points)
{
    QByteArray csv = "time";
    for (const QString &column : columns)
        csv += ',' + csvField(column).toUtf8();
    csv += '\n';

    // Merge the columns by timestamp: every series of a tick shares its time, but a series may
    // miss some ticks (a rate before its second sample), so walk them all in step.
    QList<qsizetype> next(points.size(), 0);
    for (;;) {
        qint64 t = std::numeric_limits<qint64>::max();
        for (qsizetype c = 0; c < points.size(); ++c) {
            if (next[c] < points[c].size())
                t = std::min(t, points[c][next[c]].tMs);
        }
        if (t == std::numeric_limits<qint64>::max())
            break;
        csv += QDateTime::fromMSecsSinceEpoch(t, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
        for (qsizetype c = 0; c < columns.size(); ++c) {
            csv += ',';
            if (c < points.size() && next[c] < points[c].size() && points[c][next[c]].tMs == t)
                csv += csvNumber(points[c][next[c]++].value);
        }
        csv += '\n';
    }
    return csv;
}

} // namespace poolscope::ui
