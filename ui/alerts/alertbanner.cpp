#include "ui/alerts/alertbanner.h"

#include "core/monitor/monitorsession.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QStyle>
#include <QSystemTrayIcon>

namespace poolscope::ui {
namespace {

bool contains(const QList<Alert> &alerts, Alert::Kind kind)
{
    return std::any_of(alerts.begin(), alerts.end(),
                       [kind](const Alert &a) { return a.kind == kind; });
}

// The server or the pooler not answering: shown in red, logged as an error.
bool isOutage(Alert::Kind kind)
{
    return kind == Alert::Kind::ServerUnreachable || kind == Alert::Kind::PoolerUnreachable;
}

Event alertEvent(const Alert &alert, bool raised)
{
    Event e;
    e.level = !raised          ? Event::Level::Info
        : isOutage(alert.kind) ? Event::Level::Error
                               : Event::Level::Warning;
    e.category = Event::Category::Alert;
    e.subsystem = QStringLiteral("alerts");
    e.message = (raised ? QStringLiteral("raised: ") : QStringLiteral("cleared: ")) + alert.title;
    // The figures and what to do, shown where typed errors show their remedy.
    if (raised)
        e.remedy = alert.detail;
    return e;
}

} // namespace

AlertBanner::AlertBanner(MonitorSession *session, QWidget *parent)
    : QFrame(parent)
    , m_session(session)
    , m_thresholds(loadThresholds())
    , m_label(new QLabel(this))
{
    setObjectName(QStringLiteral("alertBanner"));
    m_label->setObjectName(QStringLiteral("alertText"));
    m_label->setWordWrap(true);
    m_label->setTextFormat(Qt::PlainText);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 10, 6);
    layout->addWidget(m_label, 1);
    m_notifier = [this](const QString &title, const QString &body) {
        notifyTray(title, body);
    };
    hide();

    if (!session)
        return;
    m_activity = session->lastSample();
    m_unreachable = session->serverUnreachable();
    connect(session, &MonitorSession::sampled, this, [this](const ActivitySample &sample) {
        m_activity = sample;
        m_activity->sessions.reset(); // not needed here; keeps the copy small
        m_unreachable = false;        // a sample means the server answered
        recompute();
    });
    connect(session, &MonitorSession::poolStatsSampled, this, [this](const PoolStats &stats) {
        m_pool = stats;
        recompute();
    });
    m_poolerUnreachable = session->poolerUnreachable();
    connect(session, &MonitorSession::poolerSampled, this, [this](const PoolerSample &sample) {
        m_pooler = sample;
        m_poolerUnreachable = false;
        recompute();
    });
    connect(session, &MonitorSession::poolerLost, this, [this] {
        m_poolerUnreachable = true;
        recompute();
    });
    connect(session, &MonitorSession::connectionLost, this, [this] {
        m_unreachable = true;
        recompute();
    });
    connect(session, &MonitorSession::connectionRestored, this, [this] {
        m_unreachable = false;
        recompute();
    });
    recompute();
}

AlertBanner::~AlertBanner() = default;

AlertThresholds AlertBanner::loadThresholds()
{
    const AlertThresholds defaults;
    AlertThresholds t;
    QSettings settings;
    settings.beginGroup(QStringLiteral("alerts"));
    t.usagePercent =
        settings.value(QStringLiteral("usagePercent"), defaults.usagePercent).toDouble();
    t.poolWaiters = settings.value(QStringLiteral("poolWaiters"), defaults.poolWaiters).toInt();
    t.poolerWaitSeconds =
        settings.value(QStringLiteral("poolerWaitSeconds"), defaults.poolerWaitSeconds).toDouble();
    t.idleInTransactionSeconds =
        settings
            .value(QStringLiteral("idleInTransactionSeconds"), defaults.idleInTransactionSeconds)
            .toDouble();
    t.longQuerySeconds =
        settings.value(QStringLiteral("longQuerySeconds"), defaults.longQuerySeconds).toDouble();
    return t;
}

void AlertBanner::saveThresholds(const AlertThresholds &t)
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("alerts"));
    settings.setValue(QStringLiteral("usagePercent"), t.usagePercent);
    settings.setValue(QStringLiteral("poolWaiters"), t.poolWaiters);
    settings.setValue(QStringLiteral("poolerWaitSeconds"), t.poolerWaitSeconds);
    settings.setValue(QStringLiteral("idleInTransactionSeconds"), t.idleInTransactionSeconds);
    settings.setValue(QStringLiteral("longQuerySeconds"), t.longQuerySeconds);
}

void AlertBanner::setAlertThresholds(const AlertThresholds &thresholds)
{
    m_thresholds = thresholds;
    saveThresholds(thresholds);
    recompute();
}

QString AlertBanner::text() const
{
    return m_label->text();
}

void AlertBanner::recompute()
{
    const QList<Alert> current = evaluateAlerts(m_thresholds, m_activity, m_pool, m_pooler,
                                                m_unreachable, m_poolerUnreachable);
    const AlertTracker::Change change = m_tracker.update(current);
    if (m_session) {
        for (const Alert &alert : change.raised)
            m_session->events().append(alertEvent(alert, true));
        for (const Alert &alert : change.cleared)
            m_session->events().append(alertEvent(alert, false));
    }
    // One notification per update, however many alerts it raised: a burst of popups is noise.
    if (!change.raised.isEmpty() && m_notifier) {
        if (change.raised.size() == 1) {
            m_notifier(change.raised.first().title, change.raised.first().detail);
        } else {
            QStringList titles;
            for (const Alert &alert : change.raised)
                titles << alert.title;
            m_notifier(tr("%1 PoolScope alerts").arg(change.raised.size()),
                       titles.join(QLatin1Char('\n')));
        }
    }
    updateAppearance();
}

void AlertBanner::updateAppearance()
{
    const QList<Alert> &active = m_tracker.active();
    if (active.isEmpty()) {
        m_label->clear();
        setToolTip(QString());
        hide();
        return;
    }
    QStringList titles;
    QStringList details;
    for (const Alert &alert : active) {
        titles << alert.title;
        details << QStringLiteral("<p><b>%1</b><br>%2</p>")
                       .arg(alert.title.toHtmlEscaped(), alert.detail.toHtmlEscaped());
    }
    m_label->setText(titles.join(QStringLiteral("  \u00b7  ")));
    setToolTip(details.join(QString()));
    // Red while the server is unreachable, amber otherwise; dark text on a light background reads
    // in light and dark themes alike.
    const bool severe = contains(active, Alert::Kind::ServerUnreachable)
        || contains(active, Alert::Kind::PoolerUnreachable);
    setStyleSheet(severe
                      ? QStringLiteral("QFrame#alertBanner { background: #f8d7da; border-bottom: "
                                       "1px solid #c0392b; } QLabel { color: #58151c; }")
                      : QStringLiteral("QFrame#alertBanner { background: #fdebd0; border-bottom: "
                                       "1px solid #e67e22; } QLabel { color: #4a2a00; }"));
    show();
}

void AlertBanner::notifyTray(const QString &title, const QString &body)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    if (!m_tray) {
        // The window icon the application set, else a stock warning sign (a tray icon must have
        // one).
        QIcon icon = QApplication::windowIcon();
        if (icon.isNull())
            icon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
        m_tray = new QSystemTrayIcon(icon, this);
        m_tray->setToolTip(QStringLiteral("PoolScope"));
        m_tray->show();
    }
    m_tray->showMessage(title, body, QSystemTrayIcon::Warning);
}

} // namespace poolscope::ui
