#include "ui/events/eventlogmodel.h"

#include <QBrush>
#include <QColor>

namespace poolscope::ui {
namespace {

QString wrappedTooltip(const QString &text)
{
    // Rich text so that long messages and remedies wrap instead of running off the screen.
    return text.isEmpty() ? QString() : QStringLiteral("<p>%1</p>").arg(text.toHtmlEscaped());
}

} // namespace

EventLogModel::EventLogModel(EventLog *log, QObject *parent, int capacity)
    : QAbstractTableModel(parent)
    , m_log(log)
    , m_capacity(capacity > 0 ? capacity : (log ? log->capacity() : 10000))
{
    if (!log)
        return;
    connect(log, &EventLog::appended, this, &EventLogModel::refresh);
    refresh();
}

QString EventLogModel::levelName(Event::Level level)
{
    switch (level) {
    case Event::Level::Debug:
        return tr("debug");
    case Event::Level::Info:
        return tr("info");
    case Event::Level::Warning:
        return tr("warning");
    case Event::Level::Error:
        return tr("error");
    }
    return {};
}

void EventLogModel::refresh()
{
    if (!m_log)
        return;
    QList<Event> fresh = m_log->eventsSince(m_lastSequence);
    if (fresh.isEmpty())
        return;
    m_lastSequence = fresh.last().sequence;
    // A burst larger than the capacity: only its newest part can ever be shown.
    if (fresh.size() > m_capacity)
        fresh.remove(0, fresh.size() - m_capacity);

    const int overflow = int(m_events.size()) + int(fresh.size()) - m_capacity;
    if (overflow > 0) {
        const int removed = std::min(overflow, int(m_events.size()));
        beginRemoveRows({}, 0, removed - 1);
        m_events.erase(m_events.begin(), m_events.begin() + removed);
        endRemoveRows();
    }
    const int first = int(m_events.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    for (Event &e : fresh)
        m_events.push_back(std::move(e));
    endInsertRows();
}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Event &e = event(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Time:
            return e.time.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
        case Level:
            return levelName(e.level);
        case Subsystem:
            return e.subsystem;
        case Message:
            return e.sqlstate.isEmpty() || e.message.contains(e.sqlstate)
                ? e.message
                : e.sqlstate + QLatin1Char(' ') + e.message;
        case Remedy:
            return e.remedy;
        }
        return {};
    case Qt::ToolTipRole:
        switch (index.column()) {
        case Time:
            return e.time.toLocalTime().toString(Qt::ISODateWithMs);
        case Message:
            return wrappedTooltip(e.message);
        case Remedy:
            return wrappedTooltip(e.remedy);
        }
        return {};
    case Qt::ForegroundRole:
        // Only the level column is coloured: whole red rows would be hard to read in dark themes.
        if (index.column() != Level)
            return {};
        if (e.level == Event::Level::Error)
            return QBrush(QColor(0xc0, 0x39, 0x2b));
        if (e.level == Event::Level::Warning)
            return QBrush(QColor(0xd3, 0x54, 0x00));
        return {};
    case LevelRole:
        return int(e.level);
    case CategoryRole:
        return int(e.category);
    case SqlStateRole:
        return e.sqlstate;
    case SequenceRole:
        return e.sequence;
    case SearchTextRole:
        return QStringList { e.subsystem, e.message, e.sqlstate, e.errorKind, e.remedy }.join(
            QLatin1Char('\n'));
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Time:
        return tr("Time");
    case Level:
        return tr("Level");
    case Subsystem:
        return tr("Subsystem");
    case Message:
        return tr("Message");
    case Remedy:
        return tr("Remedy");
    }
    return {};
}

} // namespace poolscope::ui
