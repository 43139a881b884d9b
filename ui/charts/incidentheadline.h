#pragma once

#include "core/monitor/incidentsummary.h"

#include <QWidget>

#include <optional>

class QAction;
class QLabel;
class QToolButton;

namespace poolscope {
class MonitorSession;
}

namespace poolscope::ui {

// The Overview's headline: one line saying what is wrong right now (summarizeIncident() over the
// session's newest samples), updated on every sample, coloured by severity. Ctrl+Shift+C, the
// Copy button and the context menu put it on the clipboard for the incident channel, with the
// time (UTC, ISO 8601) and the server. GUI thread only; reads the session's signals, owns
// nothing of it.
class IncidentHeadline : public QWidget
{
    Q_OBJECT

public:
    explicit IncidentHeadline(MonitorSession *session, QWidget *parent = nullptr);

    const IncidentSummary &summary() const { return m_summary; }
    QString clipboardText() const;
    QAction *copyAction() const { return m_copyAction; }

public Q_SLOTS:
    void copyToClipboard();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void refresh();

    MonitorSession *m_session;
    QString m_server;
    IncidentInput m_input;
    IncidentSummary m_summary;
    QLabel *m_text;
    QToolButton *m_copyButton;
    QAction *m_copyAction;
    bool m_shortcutOnWindow = false;
};

} // namespace poolscope::ui
