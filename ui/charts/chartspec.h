#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QStringList>

namespace poolscope::ui {

// How one store series is drawn.
enum class SeriesStyle {
    Line,        // min/max envelope per pixel column: spikes and dips survive any zoom-out
    StackedArea, // mean per pixel column, stacked on the previous StackedArea series
    Limit,       // dashed line (max per column), e.g. max_connections
};

struct ChartSeriesSpec
{
    QString name;  // store series name (core/sampler/samplerseries.h)
    QString label; // legend and tracker text
    QColor color;
    SeriesStyle style = SeriesStyle::Line;
    bool rightAxis = false; // plotted against the right y axis (a different unit)
};

// A chart's whole configuration; the chart never guesses anything beyond it.
struct ChartSpec
{
    QString title;
    QString yLabel;
    QString y2Label; // right axis, used when a series has rightAxis
    QList<ChartSeriesSpec> series;

    QStringList seriesNames() const
    {
        QStringList names;
        for (const ChartSeriesSpec &s : series)
            names.append(s.name);
        return names;
    }
};

} // namespace poolscope::ui
