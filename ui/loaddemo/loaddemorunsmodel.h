#pragma once

#include "core/loaddemo/loaddemo.h"

#include <QAbstractTableModel>
#include <QByteArray>
#include <QList>

namespace poolscope::ui {

// The Load demo page's summary table: one row per finished run (a target of a demo), in the
// order they finished, so a demo's direct and pooled runs sit next to each other. Bounded: past
// maxRows() the oldest rows go. Rows are immutable copies of the core's summaries plus the
// demo they belong to and the time span their snapshots covered (to show that part of the
// charts again). GUI thread only.
class LoadDemoRunsModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Demo,
        Target,
        Endpoint,
        Instances,
        Pool,
        Requests,
        Ok,
        TooManyConnections,
        AcquireTimeout,
        Pooler,
        Other,
        Abandoned,
        PeakServer,
        Limit,
        Baseline,
        After,
        BackToBaseline,
        LatencyP50,
        LatencyP95,
        LatencyP99,
        AcquireP50,
        AcquireP95,
        AcquireP99,
        Duration,
        Status,
        ColumnCount
    };

    struct Row
    {
        int demo = 0; // 1, 2, ... per page
        LoadDemoRunSummary summary;
        qint64 fromMs = 0; // first and last snapshot of the run (store times); 0 when none
        qint64 toMs = 0;
    };

    explicit LoadDemoRunsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    int addRun(const Row &row); // returns its row
    const Row &rowAt(int row) const { return m_rows.at(row); }
    QList<LoadDemoRunSummary> runsOfDemo(int demo) const;
    int maxRows() const { return m_maxRows; }
    void setMaxRows(int maxRows);

    // The whole table as CSV: a header of snake_case names, then one line per run. Latencies in
    // ms with three decimals; unknown figures are empty cells, never 0. RFC 4180 quoting.
    QByteArray toCsv() const;

private:
    QString text(const Row &row, int column) const;
    void trim();

    QList<Row> m_rows;
    int m_maxRows = 500;
};

} // namespace poolscope::ui
