#include "ui/mainwindow.h"

#include "core/monitor/connectionprofiles.h"
#include "core/monitor/monitorsession.h"
#include "ui/alerts/alertbanner.h"
#include "ui/alerts/alertsettingsdialog.h"
#include "ui/appicon.h"
#include "ui/charts/chartspage.h"
#include "ui/charts/holderspanel.h"
#include "ui/check/endpointcheckpage.h"
#include "ui/coldstart/coldstartpage.h"
#include "ui/events/eventlogpage.h"
#include "ui/loaddemo/loaddemopage.h"
#include "ui/sessions/sessionspage.h"
#include "ui/sizing/sizingpage.h"

#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace poolscope::ui {

namespace {

SessionsModel::Column sessionsColumn(HolderDimension dimension)
{
    switch (dimension) {
    case HolderDimension::Application:
        return SessionsModel::Application;
    case HolderDimension::User:
        return SessionsModel::User;
    case HolderDimension::Database:
        return SessionsModel::Database;
    case HolderDimension::Client:
        break;
    }
    return SessionsModel::Client;
}

} // namespace

MainWindow::MainWindow(MonitorSession *session, QWidget *parent)
    : QMainWindow(parent)
    , m_session(session)
{
    setWindowTitle(QStringLiteral("PoolScope"));
    setWindowIcon(applicationIcon());
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_banner = new AlertBanner(session, central);
    layout->addWidget(m_banner);
    m_pages = new QTabWidget(central);
    m_pages->setDocumentMode(true);
    auto *overview = new ChartsPage(session, m_pages);
    auto *sessionsPage = new SessionsPage(session, m_pages);
    m_pages->addTab(overview, tr("&Overview"));
    m_pages->addTab(sessionsPage, tr("&Sessions"));
    // A holder clicked on the Overview: its sessions, one click away from cancel/terminate.
    connect(overview->holdersPanel(), &HoldersPanel::holderActivated, this,
            [this, sessionsPage](HolderDimension dimension, const QString &key) {
                sessionsPage->showHolder(sessionsColumn(dimension), key);
                m_pages->setCurrentWidget(sessionsPage);
            });
    m_pages->addTab(new EventLogPage(&session->events(), m_pages), tr("&Event log"));
    // The check page owns its QSettings-backed profiles (and the QSettings, as its child).
    auto *profileSettings = new QSettings;
    auto *checkPage = new EndpointCheckPage(
        session, std::make_unique<ConnectionProfiles>(profileSettings), m_pages);
    profileSettings->setParent(checkPage);
    m_pages->addTab(checkPage, tr("Endpoint &check"));
    m_pages->addTab(new SizingPage(session, m_pages), tr("Si&zing"));
    m_pages->addTab(new ColdStartPage(session, m_pages), tr("C&old start"));
    m_pages->addTab(new LoadDemoPage(session, m_pages), tr("&Load demo"));
    const QStringList names = pageNames();
    Q_ASSERT(names.size() == m_pages->count());
    for (int i = 0; i < m_pages->count(); ++i)
        m_pages->widget(i)->setObjectName(names.value(i));
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);

    m_statusTarget = new QLabel(tr("Not connected"), this);
    m_statusHealth = new QLabel(this);
    m_statusLast = new QLabel(this);
    statusBar()->addWidget(m_statusTarget, 1);
    statusBar()->addPermanentWidget(m_statusHealth);
    statusBar()->addPermanentWidget(m_statusLast);

    connect(session, &MonitorSession::watching, this, [this](const QString &name) {
        statusBar()->clearMessage();
        setWindowTitle(QStringLiteral("PoolScope - %1").arg(name));
        m_statusTarget->setText(tr("Watching %1").arg(name));
        m_statusHealth->setText(tr("connecting..."));
    });
    connect(session, &MonitorSession::sandboxFailed, this, [this](const QString &message) {
        statusBar()->clearMessage();
        m_statusHealth->setText(tr("sandbox failed"));
        QMessageBox::warning(this, tr("Sandbox"),
                             tr("The embedded sandbox did not start:\n%1").arg(message));
    });
    connect(session, &MonitorSession::sampled, this, &MainWindow::onSampled);
    connect(session, &MonitorSession::connectionLost, this, &MainWindow::onConnectionLost);
    connect(session, &MonitorSession::connectionRestored, this, [this] {
        m_statusHealth->setText(tr("server answers"));
        m_statusHealth->setStyleSheet(QString());
    });
    buildMenus();
    restoreLayout();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *connectAction =
        file->addAction(tr("&Connect..."), this, &MainWindow::connectRequested);
    connectAction->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < m_pages->count(); ++i) {
        QAction *page = view->addAction(m_pages->tabText(i).remove(QLatin1Char('&')), this,
                                        [this, i] { m_pages->setCurrentIndex(i); });
        page->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }

    QMenu *settings = menuBar()->addMenu(tr("&Settings"));
    settings->addAction(tr("&Alert thresholds..."), this, [this] {
        AlertSettingsDialog dialog(m_banner->alertThresholds(), this);
        if (dialog.exec() == QDialog::Accepted)
            m_banner->setAlertThresholds(dialog.thresholds());
    });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About PoolScope"), this, [this] {
        QMessageBox::about(
            this, tr("About PoolScope"),
            tr("<b>PoolScope %1</b><p>A dashboard for PostgreSQL connection pooling: live "
               "connections against the limit, sessions, the app's pool and the pooler.</p>")
                .arg(QCoreApplication::applicationVersion()));
    });
}

void MainWindow::onSampled(const ActivitySample &sample)
{
    m_statusHealth->setText(tr("%1 of %2 usable connections in use")
                                .arg(sample.counts.total)
                                .arg(sample.limits.usableByOrdinaryRoles()));
    m_statusHealth->setStyleSheet(QString());
    m_statusLast->setText(
        tr("sampled %1 (%2 ms)")
            .arg(sample.takenAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")))
            .arg(double(sample.roundTripMicros) / 1000.0, 0, 'f', 1));
}

void MainWindow::onConnectionLost(const DbError &error)
{
    m_statusHealth->setText(tr("server not answering: %1").arg(errorKindName(error.kind)));
    m_statusHealth->setStyleSheet(
        QStringLiteral("color: palette(bright-text); background: #c0392b; padding: 0 6px;"));
}

QJsonObject MainWindow::diagnostics() const
{
    QJsonObject plots;
    int index = 0;
    for (QCustomPlot *plot : findChildren<QCustomPlot *>()) {
        int points = 0;
        for (int g = 0; g < plot->graphCount(); ++g)
            points += plot->graph(g)->dataCount();
        const QString name =
            plot->objectName().isEmpty() ? QStringLiteral("plot%1").arg(index) : plot->objectName();
        plots.insert(name, points);
        ++index;
    }
    return QJsonObject { { QStringLiteral("plots"), plots },
                         { QStringLiteral("title"), windowTitle() },
                         { QStringLiteral("page"), currentPageName() } };
}

QStringList MainWindow::pageNames()
{
    return { QStringLiteral("overview"), QStringLiteral("sessions"), QStringLiteral("events"),
             QStringLiteral("check"),    QStringLiteral("sizing"),   QStringLiteral("coldstart"),
             QStringLiteral("loaddemo") };
}

bool MainWindow::showPage(const QString &name)
{
    const int index = pageNames().indexOf(name);
    if (index < 0 || index >= m_pages->count())
        return false;
    m_pages->setCurrentIndex(index);
    return true;
}

QString MainWindow::currentPageName() const
{
    return pageNames().value(m_pages->currentIndex());
}

void MainWindow::restoreLayout()
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("window"));
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray()))
        resize(1280, 820);
    restoreState(settings.value(QStringLiteral("state")).toByteArray());
    m_pages->setCurrentIndex(settings.value(QStringLiteral("page"), 0).toInt());
    settings.endGroup();
}

void MainWindow::saveLayout()
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("window"));
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("state"), saveState());
    settings.setValue(QStringLiteral("page"), m_pages->currentIndex());
    settings.endGroup();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    // Everything this window started stops with it, the sandbox included.
    m_session->stop();
    event->accept();
}

} // namespace poolscope::ui
