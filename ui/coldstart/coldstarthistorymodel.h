#pragma once

#include "core/coldstart/coldstartrunner.h"

#include <QAbstractTableModel>
#include <QList>

#include <memory>

namespace poolscope::ui {

// The cold-start runs of this session, newest last, one row per probed endpoint of a run (a run
// that was cancelled before any endpoint finished keeps one row). Bounded: when more than
// maxRuns() runs are kept, the oldest run's rows are removed (beginRemoveRows), so a long
// session does not grow without limit. Runs are immutable values once added.
class ColdStartHistoryModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Id, Time, Target, Trials, P50, P95, Max, WarmP50, Verdict, ColumnCount };
    static constexpr int DefaultMaxRuns = 200;

    explicit ColdStartHistoryModel(QObject *parent = nullptr);
    ~ColdStartHistoryModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Appends the run's rows (dropping the oldest run first when full); returns the first new row.
    int addRun(const ColdStartRun &run);
    void setMaxRuns(int maxRuns); // >= 1; drops the oldest runs at once when lowered
    int maxRuns() const { return m_maxRuns; }
    int runCount() const { return m_runs.size(); }

    // The run and the index of its endpoint (-1: no endpoint finished) shown in a row.
    const ColdStartRun &runAt(int row) const;
    int targetIndexAt(int row) const;
    QList<ColdStartRun> runs() const; // oldest first
    int rowOfRun(int runId) const;    // first row of that run, -1 when not kept

private:
    struct Row
    {
        std::shared_ptr<const ColdStartRun> run;
        int target = -1;
    };

    void dropOldestRun();

    QList<std::shared_ptr<const ColdStartRun>> m_runs;
    QList<Row> m_rows;
    int m_maxRuns = DefaultMaxRuns;
};

} // namespace poolscope::ui
