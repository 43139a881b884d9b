#pragma once

#include "core/events/eventlog.h"

#include <QAbstractTableModel>
#include <QPointer>

#include <deque>

namespace poolscope::ui {

// The EventLog as a table, oldest first. On EventLog::appended() it copies only the new events
// (eventsSince) and inserts them at the end; past its capacity it removes rows from the front.
// Never a reset per update, so views keep selection and scroll position and proxies stay cheap.
class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Time, Level, Subsystem, Message, Remedy, ColumnCount };

    enum Role {
        LevelRole = Qt::UserRole + 1, // int(Event::Level)
        CategoryRole,                 // int(Event::Category)
        SqlStateRole,                 // QString
        SequenceRole,                 // quint64
        SearchTextRole,               // subsystem, message, SQLSTATE, kind and remedy in one
    };

    // `capacity` 0 = the log's own capacity.
    explicit EventLogModel(EventLog *log, QObject *parent = nullptr, int capacity = 0);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    const Event &event(int row) const { return m_events[std::size_t(row)]; }
    int capacity() const { return m_capacity; }

    static QString levelName(Event::Level level);

    // Picks up whatever the log holds beyond what is shown (connected to appended()).
    void refresh();

private:
    QPointer<EventLog> m_log;
    int m_capacity;
    std::deque<Event> m_events;
    quint64 m_lastSequence = 0;
};

} // namespace poolscope::ui
