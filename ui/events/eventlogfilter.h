#pragma once

#include "core/events/eventlog.h"

#include <QSortFilterProxyModel>

namespace poolscope::ui {

// Filters an EventLogModel: a minimum level, free text (case-insensitive, over subsystem,
// message, SQLSTATE, error kind and remedy), and the "connection errors" quick filter - the
// dashboard's `vercel logs --query="connection"`: events categorised as connection events
// (failures and recoveries), events with a connection-class SQLSTATE (08xxx, 53300, 57P0x), and
// warnings or errors whose message mentions connecting or quotes such a code. Informational
// lines that merely mention a connection ("opened connection 3 of 10") are left out.
class EventLogFilter : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit EventLogFilter(QObject *parent = nullptr);

    void setMinimumLevel(Event::Level level);
    Event::Level minimumLevel() const { return m_minimumLevel; }

    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }

    void setConnectionErrorsOnly(bool on);
    bool connectionErrorsOnly() const { return m_connectionOnly; }

    // The quick filter's predicate, exposed for tests and for anything else that wants it.
    static bool isConnectionEvent(Event::Category category, Event::Level level,
                                  const QString &sqlstate, const QString &message);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    Event::Level m_minimumLevel = Event::Level::Debug;
    QString m_text;
    bool m_connectionOnly = false;
};

} // namespace poolscope::ui
