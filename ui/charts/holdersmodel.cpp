#include "ui/charts/holdersmodel.h"

#include <QFont>

#include <cmath>

namespace poolscope::ui {

HoldersModel::HoldersModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void HoldersModel::setEntries(const QList<BreakdownEntry> &entries)
{
    bool sameHolders = entries.size() == m_entries.size();
    for (qsizetype i = 0; sameHolders && i < entries.size(); ++i)
        sameHolders = entries.at(i).key == m_entries.at(i).key
            && entries.at(i).isOther == m_entries.at(i).isOther;
    if (!sameHolders) {
        beginResetModel();
        m_entries = entries;
        endResetModel();
        return;
    }
    m_entries = entries;
    if (!m_entries.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int HoldersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int HoldersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString HoldersModel::formatAge(double seconds)
{
    if (!(seconds > 0))
        return QStringLiteral("–");
    const qint64 s = qint64(std::floor(seconds));
    if (s < 60)
        return tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QVariant HoldersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_entries.size())
        return {};
    const BreakdownEntry &e = m_entries.at(index.row());
    switch (role) {
    case KeyRole:
        return e.key;
    case IsOtherRole:
        return e.isOther;
    case Qt::TextAlignmentRole:
        return index.column() == Holder ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::FontRole:
        if (index.column() == Holder && (e.isOther || e.key.isEmpty())) {
            QFont italic;
            italic.setItalic(true);
            return italic;
        }
        return {};
    case Qt::ToolTipRole:
        return e.isOther ? tr("Every holder past the top ones, together")
                         : tr("Click to list these sessions on the Sessions page");
    case Qt::DisplayRole:
        break;
    default:
        return {};
    }
    switch (index.column()) {
    case Holder:
        if (e.isOther)
            return tr("other");
        return e.key.isEmpty() ? tr("(empty)") : e.key;
    case Total:
        return e.total;
    case Active:
        return e.active;
    case Idle:
        return e.idle;
    case IdleInTransaction:
        return e.idleInTransaction;
    case OldestConnection:
        return formatAge(e.oldestConnectionSeconds);
    case LongestIdleInTransaction:
        return formatAge(e.longestIdleInTransactionSeconds);
    default:
        return {};
    }
}

QVariant HoldersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == LongestIdleInTransaction)
        return tr("How long the holder's longest idle-in-transaction session has been idle");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Holder:
        return tr("Holder");
    case Total:
        return tr("Total");
    case Active:
        return tr("Active");
    case Idle:
        return tr("Idle");
    case IdleInTransaction:
        return tr("Idle in tx");
    case OldestConnection:
        return tr("Oldest conn.");
    case LongestIdleInTransaction:
        return tr("Longest idle in tx");
    default:
        return {};
    }
}

} // namespace poolscope::ui
