#include "ui/events/eventlogfilter.h"

#include "ui/events/eventlogmodel.h"

#include <QRegularExpression>

namespace poolscope::ui {

EventLogFilter::EventLogFilter(QObject *parent)
    : QSortFilterProxyModel(parent)
{
}

void EventLogFilter::setMinimumLevel(Event::Level level)
{
    if (level == m_minimumLevel)
        return;
    m_minimumLevel = level;
    invalidateFilter();
}

void EventLogFilter::setFilterText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

void EventLogFilter::setConnectionErrorsOnly(bool on)
{
    if (on == m_connectionOnly)
        return;
    m_connectionOnly = on;
    invalidateFilter();
}

bool EventLogFilter::isConnectionEvent(Event::Category category, Event::Level level,
                                       const QString &sqlstate, const QString &message)
{
    if (category == Event::Category::Connection)
        return true;
    if (sqlstate.startsWith(QLatin1String("08")) || sqlstate == QLatin1String("53300")
        || sqlstate.startsWith(QLatin1String("57P0")))
        return true;
    if (level < Event::Level::Warning)
        return false;
    // "connect" covers connect, connection, reconnect, disconnected; the codes catch server lines
    // that only quote their SQLSTATE.
    static const QRegularExpression kMentions(
        QStringLiteral(R"(connect|\b(08[0-9A-Z]{3}|53300|57P0[1-5])\b)"),
        QRegularExpression::CaseInsensitiveOption);
    return kMentions.match(message).hasMatch();
}

bool EventLogFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto level = Event::Level(index.data(EventLogModel::LevelRole).toInt());
    if (level < m_minimumLevel)
        return false;
    // The remedy is not searched by the quick filter: most remedies talk about connections.
    if (m_connectionOnly
        && !isConnectionEvent(Event::Category(index.data(EventLogModel::CategoryRole).toInt()),
                              level, index.data(EventLogModel::SqlStateRole).toString(),
                              index.siblingAtColumn(EventLogModel::Message).data().toString()))
        return false;
    const QString text = index.data(EventLogModel::SearchTextRole).toString();
    return m_text.isEmpty() || text.contains(m_text, Qt::CaseInsensitive);
}

} // namespace poolscope::ui
