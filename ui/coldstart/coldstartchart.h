#pragma once

#include "core/coldstart/coldstartprobe.h"

#include <QList>
#include <QString>
#include <QWidget>

class QCPBars;
class QCustomPlot;

namespace poolscope::ui {

// One horizontal bar per trial, stacked by phase (dns, tcp, tls, auth, first_query), the
// endpoints of a run one group above the other ("direct #1", ..., then "pooled #1", ...) on one
// time axis so they compare at a glance. A failed trial's failing phase is drawn in red as
// "failed" (the phases still add up to the trial's total) and its tick says so. Follows the
// widget palette (applyPaletteToPlot); replots are queued, so a trial per update is cheap.
class ColdStartChart : public QWidget
{
    Q_OBJECT

public:
    struct Group
    {
        QString label; // "direct", "pooled"
        QList<ColdStartTrial> trials;
    };

    // Phase segments in stacking order, then the "failed" segment.
    enum Segment { Dns, Tcp, Tls, Auth, FirstQuery, Failed, SegmentCount };

    explicit ColdStartChart(QWidget *parent = nullptr);
    ~ColdStartChart() override;

    void setGroups(const QList<Group> &groups);
    void clear();
    const QList<Group> &groups() const { return m_groups; }

    QCustomPlot *plot() const { return m_plot; }
    QCPBars *bars(Segment segment) const { return m_bars.at(segment); }
    // The bar key of a group's trial (index from 0); the keys run from the top down.
    double keyOf(int group, int trial) const;

    // Writes the chart as PNG; false with *error when it could not be written.
    bool exportPng(const QString &path, QString *error = nullptr);

protected:
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void applyPalette();
    void updateTicks(); // as many trial labels as fit the axis height without overlapping

    QCustomPlot *m_plot;
    QList<QCPBars *> m_bars;
    QList<Group> m_groups;
};

} // namespace poolscope::ui
