#include "ui/sessions/sessionsmodel.h"

#include <QColor>
#include <QGuiApplication>
#include <QHash>
#include <QPalette>
#include <QSet>

namespace poolscope::ui {

namespace {

constexpr int MaxDisplayedQueryLength = 300; // the tooltip and details pane show all of it

bool sameSession(const SessionRow &a, const SessionRow &b)
{
    return a.pid == b.pid && a.user == b.user && a.database == b.database
        && a.application == b.application && a.client == b.client && a.state == b.state
        && a.waitEventType == b.waitEventType && a.waitEvent == b.waitEvent
        && a.backendStart == b.backendStart && a.transactionStart == b.transactionStart
        && a.queryStart == b.queryStart && a.stateChange == b.stateChange && a.query == b.query
        && a.blockingPids == b.blockingPids;
}

double secondsBetween(const QDateTime &from, const QDateTime &to)
{
    if (!from.isValid() || !to.isValid())
        return -1;
    return std::max(0.0, double(from.msecsTo(to)) / 1000.0); // clocks may differ by a few ms
}

bool isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QString joinPids(const QList<int> &pids)
{
    QStringList texts;
    for (int pid : pids)
        texts.append(QString::number(pid));
    return texts.join(QStringLiteral(", "));
}

bool isAgeColumn(int column)
{
    return column == SessionsModel::TransactionAge || column == SessionsModel::QueryAge
        || column == SessionsModel::StateAge;
}

} // namespace

SessionsModel::SessionsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int SessionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int SessionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int SessionsModel::rowOfPid(int pid) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).pid == pid)
            return row;
    }
    return -1;
}

double SessionsModel::transactionAge(const SessionRow &row) const
{
    return secondsBetween(row.transactionStart, m_now);
}

double SessionsModel::queryAge(const SessionRow &row) const
{
    // query_start of an idle session is its last query's: only a running query has an age.
    if (row.state != QLatin1String("active")
        && row.state != QLatin1String("fastpath function call"))
        return -1;
    return secondsBetween(row.queryStart, m_now);
}

double SessionsModel::stateAge(const SessionRow &row) const
{
    return secondsBetween(row.stateChange, m_now);
}

double SessionsModel::ageSeconds(const SessionRow &row, int column) const
{
    switch (column) {
    case TransactionAge:
        return transactionAge(row);
    case QueryAge:
        return queryAge(row);
    case StateAge:
        return stateAge(row);
    default:
        return -1;
    }
}

SessionsModel::Highlight SessionsModel::highlight(int row) const
{
    const SessionRow &s = m_rows.at(row);
    if (s.state.startsWith(QLatin1String("idle in transaction"))
        && stateAge(s) > m_idleInTransactionSeconds)
        return Highlight::IdleInTransaction;
    if (queryAge(s) > m_longQuerySeconds)
        return Highlight::LongRunningQuery;
    return Highlight::None;
}

QString SessionsModel::formatAge(double seconds)
{
    if (seconds < 0)
        return {};
    const qint64 s = qint64(seconds);
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86400)
        return QStringLiteral("%1 h %2 min")
            .arg(s / 3600)
            .arg(s % 3600 / 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 d %2 h").arg(s / 86400).arg(s % 86400 / 3600);
}

QVariant SessionsModel::displayData(const SessionRow &row, int column) const
{
    switch (column) {
    case Pid:
        return row.pid;
    case User:
        return row.user;
    case Database:
        return row.database;
    case Application:
        return row.application;
    case Client:
        return row.client;
    case State:
        return row.state.isEmpty() ? tr("hidden") : row.state;
    case WaitEvent:
        if (row.waitEventType.isEmpty())
            return row.waitEvent;
        return QString(row.waitEventType + QStringLiteral(": ") + row.waitEvent);
    case BackendStart:
        return row.backendStart.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
    case TransactionAge:
    case QueryAge:
    case StateAge:
        return formatAge(ageSeconds(row, column));
    case BlockedBy:
        return joinPids(row.blockingPids);
    case Query: {
        const QString oneLine = row.query.simplified();
        return oneLine.size() > MaxDisplayedQueryLength
            ? oneLine.left(MaxDisplayedQueryLength) + QChar(0x2026)
            : oneLine;
    }
    default:
        return {};
    }
}

QVariant SessionsModel::sortData(const SessionRow &row, int column) const
{
    switch (column) {
    case Pid:
        return row.pid;
    case BackendStart:
        return row.backendStart.isValid() ? row.backendStart.toMSecsSinceEpoch() : qint64(-1);
    case TransactionAge:
    case QueryAge:
    case StateAge:
        return ageSeconds(row, column);
    case BlockedBy:
        return int(row.blockingPids.size());
    case Query:
        return row.query.simplified();
    default:
        return displayData(row, column);
    }
}

QVariant SessionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionRow &row = m_rows.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(row, column);
    case SortRole:
        return sortData(row, column);
    case PidRole:
        return row.pid;
    case StateRole:
        return row.state;
    case HighlightRole:
        return int(highlight(index.row()));
    case WaitingRole:
        return row.waitEventType == QLatin1String("Lock") || !row.blockingPids.isEmpty();
    case AgeSecondsRole:
        return isAgeColumn(column) ? QVariant(ageSeconds(row, column)) : QVariant();
    case Qt::ToolTipRole: {
        QString tip = row.query;
        if (!row.blockingPids.isEmpty())
            tip += QStringLiteral("\n\n") + tr("Blocked by: %1").arg(joinPids(row.blockingPids));
        return tip;
    }
    case Qt::TextAlignmentRole:
        if (column == Pid || isAgeColumn(column) || column == BlockedBy)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::BackgroundRole:
    case Qt::ForegroundRole: {
        const QPalette palette = QGuiApplication::palette();
        const Highlight h = highlight(index.row());
        if (h == Highlight::None) {
            // Dim what the role may not see, rather than colouring it.
            if (role == Qt::ForegroundRole && row.state.isEmpty())
                return palette.color(QPalette::PlaceholderText);
            return {};
        }
        if (role == Qt::ForegroundRole)
            return palette.color(QPalette::Text); // the tints below keep contrast with it
        const bool dark = isDarkPalette(palette);
        if (h == Highlight::IdleInTransaction)
            return dark ? QColor(110, 34, 40) : QColor(255, 212, 214);
        return dark ? QColor(96, 74, 12) : QColor(255, 236, 179);
    }
    default:
        return {};
    }
}

QVariant SessionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Pid:
        return tr("PID");
    case User:
        return tr("User");
    case Database:
        return tr("Database");
    case Application:
        return tr("Application");
    case Client:
        return tr("Client");
    case State:
        return tr("State");
    case WaitEvent:
        return tr("Wait event");
    case BackendStart:
        return tr("Connected since");
    case TransactionAge:
        return tr("Transaction");
    case QueryAge:
        return tr("Query running");
    case StateAge:
        return tr("In state");
    case BlockedBy:
        return tr("Blocked by");
    case Query:
        return tr("Query");
    default:
        return {};
    }
}

void SessionsModel::setSessions(const QList<SessionRow> &sessions, const QDateTime &now)
{
    // Incoming rows by pid (a pid listed twice keeps its first row).
    QHash<int, int> incoming;
    incoming.reserve(sessions.size());
    for (int i = 0; i < sessions.size(); ++i) {
        if (!incoming.contains(sessions.at(i).pid))
            incoming.insert(sessions.at(i).pid, i);
    }

    // 1. Gone pids, as contiguous runs from the bottom so earlier row numbers stay valid.
    for (int last = int(m_rows.size()) - 1; last >= 0;) {
        if (incoming.contains(m_rows.at(last).pid)) {
            --last;
            continue;
        }
        int first = last;
        while (first > 0 && !incoming.contains(m_rows.at(first - 1).pid))
            --first;
        beginRemoveRows({}, first, last);
        m_rows.remove(first, last - first + 1);
        endRemoveRows();
        last = first - 1;
    }

    // 2. Rows still there: content or highlight changed -> the whole row; otherwise only the
    // age columns, and only when the sample time moved.
    const bool timeMoved = now != m_now;
    QList<Highlight> before;
    before.reserve(m_rows.size());
    for (int row = 0; row < m_rows.size(); ++row)
        before.append(highlight(row));
    m_now = now;
    QList<bool> changed(m_rows.size(), false);
    QSet<int> present;
    for (int row = 0; row < m_rows.size(); ++row) {
        const SessionRow &next = sessions.at(incoming.value(m_rows.at(row).pid));
        present.insert(next.pid);
        if (!sameSession(m_rows.at(row), next)) {
            m_rows[row] = next;
            changed[row] = true;
        }
        if (highlight(row) != before.at(row))
            changed[row] = true;
    }
    const auto emitRuns = [this, &changed](bool wanted, int firstColumn, int lastColumn,
                                           const QList<int> &roles) {
        for (int first = 0; first < changed.size();) {
            if (changed.at(first) != wanted) {
                ++first;
                continue;
            }
            int last = first;
            while (last + 1 < changed.size() && changed.at(last + 1) == wanted)
                ++last;
            Q_EMIT dataChanged(index(first, firstColumn), index(last, lastColumn), roles);
            first = last + 1;
        }
    };
    emitRuns(true, 0, ColumnCount - 1, {});
    if (timeMoved)
        emitRuns(false, TransactionAge, StateAge, { Qt::DisplayRole, SortRole, AgeSecondsRole });

    // 3. New pids, appended in the sample's order.
    QList<SessionRow> added;
    for (int i = 0; i < sessions.size(); ++i) {
        const SessionRow &s = sessions.at(i);
        if (!present.contains(s.pid) && incoming.value(s.pid) == i)
            added.append(s);
    }
    if (!added.isEmpty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        m_rows.append(added);
        endInsertRows();
    }
}

void SessionsModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1); // last row inclusive (Hotspot's slip)
    m_rows.clear();
    endRemoveRows();
}

void SessionsModel::setThresholds(double longRunningQuerySeconds, double idleInTransactionSeconds)
{
    if (longRunningQuerySeconds == m_longQuerySeconds
        && idleInTransactionSeconds == m_idleInTransactionSeconds)
        return;
    m_longQuerySeconds = longRunningQuerySeconds;
    m_idleInTransactionSeconds = idleInTransactionSeconds;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1),
                           { HighlightRole, Qt::BackgroundRole, Qt::ForegroundRole });
}

} // namespace poolscope::ui
