#pragma once

#include "core/events/eventlog.h"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;
class QTextBrowser;
class QToolButton;

namespace poolscope::ui {

class EventLogFilter;
class EventLogModel;

// The event log page: every log line, typed error (with its remedy), alert and operator action,
// newest at the bottom. Level and text filters, a "Connection errors" quick filter, a details
// pane showing the selected event's remedy, Copy (selected rows) and Export (visible rows, CSV).
// Follows the newest event unless the user has scrolled up.
class EventLogPage : public QWidget
{
    Q_OBJECT

public:
    explicit EventLogPage(EventLog *log, QWidget *parent = nullptr);

    EventLogModel *model() const { return m_model; }
    EventLogFilter *filter() const { return m_filter; }
    QTableView *view() const { return m_table; }

    // The selected rows as tab-separated lines (what Copy puts on the clipboard).
    QString selectedText() const;
    // Writes the visible (filtered) rows as CSV; false with `error` set on failure.
    bool exportCsv(const QString &path, QString *error = nullptr) const;

    void copySelection();
    void exportWithDialog();

private:
    void showDetails(const QModelIndex &proxyIndex);

    EventLog *m_log;
    EventLogModel *m_model;
    EventLogFilter *m_filter;
    QComboBox *m_level;
    QLineEdit *m_text;
    QToolButton *m_connectionOnly;
    QTableView *m_table;
    QTextBrowser *m_details;
    bool m_followNewest = true;
};

} // namespace poolscope::ui
