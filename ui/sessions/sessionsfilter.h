#pragma once

#include "ui/sessions/sessionsmodel.h"

#include <QSortFilterProxyModel>

#include <optional>

namespace poolscope::ui {

// Filters and sorts a SessionsModel: free text, state, application, and an "older than"
// predicate used by the bulk actions (e.g. idle in transaction for more than 5 minutes).
// Sorting is on SessionsModel::SortRole, so ages and pids compare as numbers.
class SessionsFilter : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class StateFilter { All, Active, Idle, IdleInTransaction, Waiting };

    explicit SessionsFilter(QObject *parent = nullptr);

    // Case-insensitive substring of user, database, application, client, query or pid.
    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }

    void setStateFilter(StateFilter state);
    StateFilter stateFilter() const { return m_state; }

    // nullopt: every application; an empty string is a real value (no application_name set).
    void setApplicationFilter(const std::optional<QString> &application);
    std::optional<QString> applicationFilter() const { return m_application; }

    // Only one holder's sessions (the Overview's "who holds the connections"): rows whose
    // `column` (User, Database, Application or Client) is exactly `value`; nullopt removes it.
    using Holder = QPair<SessionsModel::Column, QString>;
    void setHolderFilter(const std::optional<Holder> &holder);
    std::optional<Holder> holderFilter() const { return m_holder; }

    // Only rows whose age in `column` (TransactionAge, QueryAge or StateAge) exceeds `seconds`;
    // nullopt removes the predicate.
    void setMinimumAge(SessionsModel::Column column, std::optional<double> seconds);

    QList<int> pids() const; // every accepted row's pid, in proxy order

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    StateFilter m_state = StateFilter::All;
    std::optional<QString> m_application;
    std::optional<Holder> m_holder;
    SessionsModel::Column m_ageColumn = SessionsModel::StateAge;
    std::optional<double> m_minimumAge;
};

} // namespace poolscope::ui
