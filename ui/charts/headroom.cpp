#include "ui/charts/headroom.h"

#include "core/monitor/alertevaluator.h"
#include "core/sampler/samplerseries.h"

#include <QCoreApplication>

#include <cmath>

namespace poolscope::ui {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("poolscope::ui::Headroom", text);
}

QString roughDuration(double seconds)
{
    if (seconds < 60)
        return tr("less than a minute");
    const qint64 minutes = qint64(std::llround(seconds / 60.0));
    if (minutes < 60)
        return tr("about %1 min").arg(minutes);
    return tr("about %1 h %2 min").arg(minutes / 60).arg(minutes % 60);
}

} // namespace

QString headroomText(const ActivitySample &sample)
{
    return tr("%1 of %2 usable connections free")
        .arg(sample.available)
        .arg(sample.limits.usableByOrdinaryRoles());
}

std::optional<double> estimateSecondsToExhaustion(const TimeSeriesStore &store, qint64 atMs,
                                                  double usable)
{
    const QList<TimePoint> raw =
        store.raw(series::Total, atMs - kExhaustionFitWindowMs + 1, atMs + 1);
    QList<QPair<qint64, double>> points;
    points.reserve(raw.size());
    for (const TimePoint &p : raw) {
        if (p.isGap())
            points.clear(); // fit only what happened since the last outage
        else
            points.append({ p.tMs, p.value });
    }
    if (points.size() < 2 || points.last().first - points.first().first < kExhaustionMinimumSpanMs)
        return std::nullopt;
    return secondsToExhaustion(points, usable);
}

QString exhaustionText(std::optional<double> seconds)
{
    if (!seconds || *seconds > 24 * 3600.0)
        return {};
    if (*seconds <= 0)
        return tr("Usable connections are exhausted");
    return tr("Rising: usable connections run out in %1 at this rate").arg(roughDuration(*seconds));
}

} // namespace poolscope::ui
