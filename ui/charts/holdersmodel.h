#pragma once

#include "core/sampler/activitysample.h"

#include <QAbstractTableModel>

namespace poolscope::ui {

// The latest sample's holders of one breakdown (top N, then "other"), one row each, in the
// sampler's order (largest first). Rows are replaced wholesale when the set of holders changes,
// updated in place (dataChanged) when only their figures do, so a selection survives a tick.
class HoldersModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Holder,
        Total,
        Active,
        Idle,
        IdleInTransaction,
        OldestConnection,
        LongestIdleInTransaction,
        ColumnCount
    };
    enum Role {
        KeyRole = Qt::UserRole + 1, // QString: the holder as pg_stat_activity has it
        IsOtherRole,                // bool: the fold of everything past the top N
    };

    explicit HoldersModel(QObject *parent = nullptr);

    void setEntries(const QList<BreakdownEntry> &entries);
    const QList<BreakdownEntry> &entries() const { return m_entries; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // "–" for 0 (none), else "14 s", "3 min 20 s", "2 h 5 min".
    static QString formatAge(double seconds);

private:
    QList<BreakdownEntry> m_entries;
};

} // namespace poolscope::ui
