#pragma once

#include "core/sampler/activitysample.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>

namespace poolscope::ui {

// pg_stat_activity's client backends, one row per pid. setSessions() merges each sample into the
// rows already shown (per-row remove/insert/dataChanged, never a reset), so selection, scroll
// position and proxies survive every tick. Rows keep their first-seen order; sort with a proxy
// (SessionsFilter) on SortRole.
class SessionsModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Pid,
        User,
        Database,
        Application,
        Client,
        State,
        WaitEvent,
        BackendStart,
        TransactionAge,
        QueryAge,
        StateAge,
        BlockedBy,
        Query,
        ColumnCount
    };

    enum Role {
        PidRole = Qt::UserRole + 1, // int
        SortRole,                   // numbers for pid/ages (seconds, -1 when none)/times, else text
        StateRole,                  // pg_stat_activity.state as is
        HighlightRole,              // int(Highlight)
        WaitingRole,                // bool: waiting on a lock or blocked by another pid
        AgeSecondsRole,             // double on the age columns, -1 when none (for predicates)
    };

    enum class Highlight { None, LongRunningQuery, IdleInTransaction };

    explicit SessionsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // Merges `sessions` in; ages are computed against `now`, the sample's own (server) time.
    void setSessions(const QList<SessionRow> &sessions, const QDateTime &now);
    void clear();

    // Thresholds in seconds: active queries running longer, and sessions idle in transaction
    // longer, are highlighted.
    void setThresholds(double longRunningQuerySeconds, double idleInTransactionSeconds);
    double longRunningQueryThreshold() const { return m_longQuerySeconds; }
    double idleInTransactionThreshold() const { return m_idleInTransactionSeconds; }

    QDateTime sampleTime() const { return m_now; }
    const SessionRow &session(int row) const { return m_rows.at(row); }
    int rowOfPid(int pid) const; // -1 when absent
    Highlight highlight(int row) const;

    // -1 when the age does not apply (no transaction open, no active query, ...).
    double transactionAge(const SessionRow &row) const;
    double queryAge(const SessionRow &row) const;
    double stateAge(const SessionRow &row) const;

    static QString formatAge(double seconds);

private:
    QVariant displayData(const SessionRow &row, int column) const;
    QVariant sortData(const SessionRow &row, int column) const;
    double ageSeconds(const SessionRow &row, int column) const;

    QList<SessionRow> m_rows;
    QDateTime m_now;
    double m_longQuerySeconds = 60;
    double m_idleInTransactionSeconds = 60;
};

} // namespace poolscope::ui
