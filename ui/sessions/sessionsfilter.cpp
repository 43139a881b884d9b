#include "ui/sessions/sessionsfilter.h"

namespace poolscope::ui {

SessionsFilter::SessionsFilter(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(SessionsModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true); // rows re-sort and re-filter as ages and states change
}

void SessionsFilter::setFilterText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

void SessionsFilter::setStateFilter(StateFilter state)
{
    if (state == m_state)
        return;
    m_state = state;
    invalidateFilter();
}

void SessionsFilter::setApplicationFilter(const std::optional<QString> &application)
{
    if (application == m_application)
        return;
    m_application = application;
    invalidateFilter();
}

void SessionsFilter::setHolderFilter(const std::optional<Holder> &holder)
{
    Q_ASSERT(
        !holder || holder->first == SessionsModel::User || holder->first == SessionsModel::Database
        || holder->first == SessionsModel::Application || holder->first == SessionsModel::Client);
    if (holder == m_holder)
        return;
    m_holder = holder;
    invalidateFilter();
}

void SessionsFilter::setMinimumAge(SessionsModel::Column column, std::optional<double> seconds)
{
    Q_ASSERT(column == SessionsModel::TransactionAge || column == SessionsModel::QueryAge
             || column == SessionsModel::StateAge);
    m_ageColumn = column;
    m_minimumAge = seconds;
    invalidateFilter();
}

QList<int> SessionsFilter::pids() const
{
    QList<int> result;
    result.reserve(rowCount());
    for (int row = 0; row < rowCount(); ++row)
        result.append(index(row, 0).data(SessionsModel::PidRole).toInt());
    return result;
}

bool SessionsFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    const auto cell = [&](int column, int role = Qt::DisplayRole) {
        return model->index(sourceRow, column, sourceParent).data(role);
    };

    const QString state = cell(0, SessionsModel::StateRole).toString();
    switch (m_state) {
    case StateFilter::All:
        break;
    case StateFilter::Active:
        if (state != QLatin1String("active"))
            return false;
        break;
    case StateFilter::Idle:
        if (state != QLatin1String("idle"))
            return false;
        break;
    case StateFilter::IdleInTransaction: // "(aborted)" included
        if (!state.startsWith(QLatin1String("idle in transaction")))
            return false;
        break;
    case StateFilter::Waiting:
        if (!cell(0, SessionsModel::WaitingRole).toBool())
            return false;
        break;
    }

    if (m_application && cell(SessionsModel::Application).toString() != *m_application)
        return false;

    if (m_holder && cell(m_holder->first).toString() != m_holder->second)
        return false;

    if (m_minimumAge) {
        const double age = cell(m_ageColumn, SessionsModel::AgeSecondsRole).toDouble();
        if (age < 0 || age <= *m_minimumAge)
            return false;
    }

    if (m_text.isEmpty())
        return true;
    for (int column : { SessionsModel::Pid, SessionsModel::User, SessionsModel::Database,
                        SessionsModel::Application, SessionsModel::Client, SessionsModel::Query }) {
        // The query column displays a shortened line; search all of it.
        const int role =
            column == SessionsModel::Query ? int(SessionsModel::SortRole) : int(Qt::DisplayRole);
        if (cell(column, role).toString().contains(m_text, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace poolscope::ui
