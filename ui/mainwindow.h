#pragma once

#include <QJsonObject>
#include <QMainWindow>

class QLabel;
class QTabWidget;

namespace poolscope {
class MonitorSession;
struct ActivitySample;
struct DbError;
} // namespace poolscope

namespace poolscope::ui {

class AlertBanner;

// Assembles the pages; owns no data and no behaviour of its own beyond the window chrome
// (menus, shortcuts, status bar, remembered layout). Every page observes the MonitorSession.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(MonitorSession *session, QWidget *parent = nullptr);
    ~MainWindow() override;

    // What the charts hold, for the screenshot self-test: points per plot, and the page shown.
    QJsonObject diagnostics() const;

    // The pages' stable names for `poolscope --page NAME`, in tab order: overview, sessions,
    // events, check, sizing, coldstart, loaddemo.
    static QStringList pageNames();
    // Shows the page with that name; false (nothing changes) for an unknown name.
    bool showPage(const QString &name);
    QString currentPageName() const;
    QTabWidget *pages() const { return m_pages; }

Q_SIGNALS:
    void connectRequested();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildMenus();
    void onSampled(const poolscope::ActivitySample &sample);
    void onConnectionLost(const poolscope::DbError &error);
    void restoreLayout();
    void saveLayout();

    MonitorSession *m_session;
    AlertBanner *m_banner = nullptr;
    QTabWidget *m_pages = nullptr;
    QLabel *m_statusTarget = nullptr;
    QLabel *m_statusHealth = nullptr;
    QLabel *m_statusLast = nullptr;
};

} // namespace poolscope::ui
