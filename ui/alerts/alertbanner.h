#pragma once

#include "core/monitor/alertevaluator.h"

#include <QFrame>

#include <functional>
#include <optional>

class QLabel;
class QSystemTrayIcon;

namespace poolscope {
class MonitorSession;
}

namespace poolscope::ui {

// A coloured strip above the pages listing the active alerts (hidden when there are none).
// Recomputes on every MonitorSession sample, pool/pooler snapshot and connection loss/recovery;
// each alert raised or cleared becomes an Alert event in session->events(), and each update that
// raises alerts sends one tray notification. Thresholds persist in QSettings (group "alerts").
class AlertBanner : public QFrame
{
    Q_OBJECT

public:
    // Shows a desktop notification (title, body). The default uses a tray icon when the desktop
    // has a system tray and does nothing otherwise; tests replace it to observe calls.
    using Notifier = std::function<void(const QString &title, const QString &body)>;

    explicit AlertBanner(MonitorSession *session, QWidget *parent = nullptr);
    ~AlertBanner() override;

    AlertThresholds alertThresholds() const { return m_thresholds; }
    // Applies (re-evaluating the current figures at once) and persists.
    void setAlertThresholds(const AlertThresholds &thresholds);

    void setNotifier(Notifier notifier) { m_notifier = std::move(notifier); }
    const QList<Alert> &activeAlerts() const { return m_tracker.active(); }
    QString text() const; // what the banner shows

    static AlertThresholds loadThresholds();
    static void saveThresholds(const AlertThresholds &thresholds);

private:
    void recompute();
    void notifyTray(const QString &title, const QString &body);
    void updateAppearance();

    MonitorSession *m_session;
    AlertThresholds m_thresholds;
    AlertTracker m_tracker;
    std::optional<ActivitySample> m_activity;
    std::optional<PoolStats> m_pool;
    std::optional<PoolerSample> m_pooler;
    bool m_unreachable = false;
    bool m_poolerUnreachable = false;
    Notifier m_notifier;
    QSystemTrayIcon *m_tray = nullptr; // created on first use
    QLabel *m_label;
};

} // namespace poolscope::ui
