// The event log page and the alert banner on their real widgets: the model and proxy under
// QAbstractItemModelTester, incremental appends and trimming (never a reset), the level / text /
// connection-errors filters driven by keys and clicks, remedies, auto-scroll, copy and CSV
// export; the banner raising and clearing alerts from MonitorSession's signals, its tray
// notifier, its events, and the thresholds dialog.
#include "core/monitor/monitorsession.h"
#include "ui/alerts/alertbanner.h"
#include "ui/alerts/alertsettingsdialog.h"
#include "ui/events/eventlogfilter.h"
#include "ui/events/eventlogmodel.h"
#include "ui/events/eventlogpage.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

Event makeEvent(Event::Level level, const QString &subsystem, const QString &message,
                Event::Category category = Event::Category::Log)
{
    Event e;
    e.level = level;
    e.subsystem = subsystem;
    e.message = message;
    e.category = category;
    return e;
}

// 100 max_connections, 3 reserved for superusers: ordinary roles may open 97.
ActivitySample sampleWith(int total)
{
    ActivitySample s;
    s.takenAt = QDateTime::currentDateTimeUtc();
    s.limits.maxConnections = 100;
    s.limits.superuserReserved = 3;
    s.counts.total = total;
    return s;
}

QList<Event> alertEvents(EventLog &log)
{
    QList<Event> alerts;
    for (const Event &e : log.eventsSince(0)) {
        if (e.category == Event::Category::Alert)
            alerts << e;
    }
    return alerts;
}

} // namespace

class tst_EventLogAlertsUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void modelAppendsAndTrimsWithoutReset();
    void filtersThroughTheWidgets();
    void typedErrorShowsItsRemedy();
    void followsTheNewestUnlessScrolledUp();
    void copyAndExportCsv();

    void bannerRaisesAndClearsUsageAlert();
    void bannerOnConnectionLossAndPoolWaiters();
    void thresholdsDialogAppliesAndPersists();
};

void tst_EventLogAlertsUi::initTestCase()
{
    // The settings land in the test's own fresh XDG_CONFIG_HOME (see poolscope_add_test).
    QCoreApplication::setOrganizationName(QStringLiteral("PoolScopeTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_eventlog_alerts_ui"));
    const QString configHome = qEnvironmentVariable("XDG_CONFIG_HOME") + QLatin1Char('/');
    QVERIFY2(configHome.size() > 1 && QSettings().fileName().startsWith(configHome),
             qPrintable(QSettings().fileName()));
}

void tst_EventLogAlertsUi::init()
{
    QSettings().remove(QStringLiteral("alerts"));
}

void tst_EventLogAlertsUi::modelAppendsAndTrimsWithoutReset()
{
    EventLog log(1000);
    EventLogModel model(&log, nullptr, 50);
    QAbstractItemModelTester modelTester(&model,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);
    EventLogFilter proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

    for (int i = 0; i < 30; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(model.rowCount(), 30);
    QCOMPARE(inserted.count(), 1); // one coalesced notification, one insertion
    QCOMPARE(removed.count(), 0);
    QCOMPARE(proxy.rowCount(), 30);

    // Past the model's capacity: the oldest rows leave from the front.
    for (int i = 30; i < 70; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(inserted.count(), 2);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.last().at(1).toInt(), 0);
    QCOMPARE(removed.last().at(2).toInt(), 19);
    QCOMPARE(model.index(0, EventLogModel::Message).data().toString(), QStringLiteral("20"));
    QCOMPARE(model.index(49, EventLogModel::Message).data().toString(), QStringLiteral("69"));

    // A burst larger than the capacity keeps only its newest part.
    for (int i = 70; i < 270; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(inserted.count(), 3);
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.index(0, EventLogModel::Message).data().toString(), QStringLiteral("220"));
    QCOMPARE(model.index(49, EventLogModel::Message).data().toString(), QStringLiteral("269"));
    QCOMPARE(proxy.rowCount(), 50);
    QCOMPARE(resets.count(), 0);
}

void tst_EventLogAlertsUi::filtersThroughTheWidgets()
{
    EventLog log;
    EventLogPage page(&log);
    page.resize(900, 500);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));

    log.append(
        makeEvent(Event::Level::Debug, QStringLiteral("pool"), QStringLiteral("debug noise")));
    log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"),
                         QStringLiteral("opened connection 3 of 10")));
    log.append(makeEvent(Event::Level::Warning, QStringLiteral("pool"),
                         QStringLiteral("slow acquire: 2 s")));
    log.append(makeEvent(Event::Level::Warning, QStringLiteral("sampler"),
                         QStringLiteral("could not connect to server: Connection refused")));
    log.append(makeEvent(Event::Level::Info, QStringLiteral("sampler"),
                         QStringLiteral("the server answers again"), Event::Category::Connection));
    log.appendError(QStringLiteral("pool"),
                    errorFromSqlState(QStringLiteral("53300"),
                                      QStringLiteral("sorry, too many clients already")));
    log.appendError(QStringLiteral("ui"),
                    errorFromSqlState(QStringLiteral("42601"), QStringLiteral("syntax error")));
    EventLogFilter *proxy = page.filter();
    QTRY_COMPARE(page.model()->rowCount(), 7);
    QCOMPARE(proxy->rowCount(), 6); // the default minimum level is info

    auto *level = page.findChild<QComboBox *>(QStringLiteral("levelFilter"));
    auto *text = page.findChild<QLineEdit *>(QStringLiteral("textFilter"));
    auto *connection = page.findChild<QToolButton *>(QStringLiteral("connectionErrorsButton"));
    QVERIFY(level && text && connection);

    level->setFocus();
    QTest::keyClick(level, Qt::Key_Down); // info -> warning
    QCOMPARE(proxy->minimumLevel(), Event::Level::Warning);
    QCOMPARE(proxy->rowCount(), 4);
    QTest::keyClick(level, Qt::Key_Up);
    QTest::keyClick(level, Qt::Key_Up); // -> debug
    QCOMPARE(proxy->rowCount(), 7);
    QTest::keyClick(level, Qt::Key_Down); // back to info

    QTest::keyClicks(text, QStringLiteral("SLOW"));
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(proxy->index(0, EventLogModel::Message).data().toString(),
             QStringLiteral("slow acquire: 2 s"));
    text->selectAll();
    QTest::keyClick(text, Qt::Key_Backspace);
    QCOMPARE(proxy->rowCount(), 6);
    QTest::keyClicks(text, QStringLiteral("53300")); // SQLSTATEs are searchable
    QCOMPARE(proxy->rowCount(), 1);
    text->selectAll();
    QTest::keyClick(text, Qt::Key_Backspace);

    // The quick filter: failures and recoveries, not the informational "opened connection".
    QTest::mouseClick(connection, Qt::LeftButton);
    QVERIFY(connection->isChecked());
    QStringList shown;
    for (int row = 0; row < proxy->rowCount(); ++row)
        shown << proxy->index(row, EventLogModel::Message).data().toString();
    QCOMPARE(shown.size(), 3);
    QVERIFY(shown[0].startsWith(QLatin1String("could not connect")));
    QCOMPARE(shown[1], QStringLiteral("the server answers again"));
    QVERIFY(shown[2].contains(QLatin1String("too many clients")));
    // Combined with text.
    QTest::keyClicks(text, QStringLiteral("refused"));
    QCOMPARE(proxy->rowCount(), 1);
    QTest::mouseClick(connection, Qt::LeftButton);
    QVERIFY(!connection->isChecked());
    QCOMPARE(proxy->rowCount(), 1);
    text->selectAll();
    QTest::keyClick(text, Qt::Key_Backspace);
    QCOMPARE(proxy->rowCount(), 6);
}

void tst_EventLogAlertsUi::typedErrorShowsItsRemedy()
{
    EventLog log;
    EventLogPage page(&log);
    page.resize(900, 500);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QStringLiteral("started")));
    const DbError error = errorFromConnectMessage(
        QStringLiteral("connection to server at \"db.example\" (10.0.0.1), port 5432 failed: "
                       "FATAL:  53300: sorry, too many clients already"));
    log.appendError(QStringLiteral("sampler"), error);
    QTRY_COMPARE(page.filter()->rowCount(), 2);

    const QModelIndex remedy = page.filter()->index(1, EventLogModel::Remedy);
    QCOMPARE(remedy.data().toString(), remedyFor(ErrorKind::TooManyConnections));
    QVERIFY(remedy.data().toString().contains(QLatin1String("-pooler")));
    QVERIFY(page.filter()
                ->index(1, EventLogModel::Message)
                .data()
                .toString()
                .contains(QLatin1String("53300")));

    QTableView *view = page.view();
    const QModelIndex message = page.filter()->index(1, EventLogModel::Message);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->visualRect(message).center());
    auto *details = page.findChild<QTextBrowser *>(QStringLiteral("eventDetails"));
    QVERIFY(details);
    const QString shown = details->toPlainText();
    QVERIFY2(shown.contains(QLatin1String("What to do:")), qPrintable(shown));
    QVERIFY2(shown.contains(QLatin1String("compute size, not the plan")), qPrintable(shown));
    QVERIFY2(shown.contains(QLatin1String("too_many_connections")), qPrintable(shown));
}

void tst_EventLogAlertsUi::followsTheNewestUnlessScrolledUp()
{
    EventLog log;
    EventLogPage page(&log);
    page.resize(800, 400);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    QScrollBar *scroll = page.view()->verticalScrollBar();

    for (int i = 0; i < 500; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(page.filter()->rowCount(), 500);
    QTRY_VERIFY(scroll->maximum() > 0);
    QTRY_COMPARE(scroll->value(), scroll->maximum());

    scroll->setValue(0); // the user scrolls up to read
    const int maximumBefore = scroll->maximum();
    for (int i = 500; i < 600; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(page.filter()->rowCount(), 600);
    QTRY_VERIFY(scroll->maximum() > maximumBefore); // the view has laid the new rows out
    QCOMPARE(scroll->value(), 0);

    scroll->setValue(scroll->maximum()); // back at the bottom: following again
    for (int i = 600; i < 700; ++i)
        log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QString::number(i)));
    QTRY_COMPARE(page.filter()->rowCount(), 700);
    QTRY_COMPARE(scroll->value(), scroll->maximum());
    QVERIFY(page.view()->indexAt(page.view()->viewport()->rect().bottomLeft() - QPoint(0, 2)).row()
            > 690);
}

void tst_EventLogAlertsUi::copyAndExportCsv()
{
    EventLog log;
    EventLogPage page(&log);
    log.append(makeEvent(Event::Level::Info, QStringLiteral("pool"), QStringLiteral("plain")));
    log.append(makeEvent(Event::Level::Warning, QStringLiteral("pool"),
                         QStringLiteral("a \"quoted\", comma message")));
    log.append(makeEvent(Event::Level::Debug, QStringLiteral("pool"), QStringLiteral("hidden")));
    QTRY_COMPARE(page.model()->rowCount(), 3);

    page.view()->selectAll();
    const QStringList copied = page.selectedText().split(QLatin1Char('\n'));
    QCOMPARE(copied.size(), 2); // the visible rows only
    QVERIFY2(copied[0].contains(QLatin1String("\tinfo\tpool\t\t\tplain\t")), qPrintable(copied[0]));

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("events.csv"));
    QString error;
    QVERIFY2(page.exportCsv(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList lines =
        QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3); // header + the two visible rows
    QCOMPARE(lines[0], QStringLiteral("time,level,subsystem,sqlstate,error_kind,message,remedy"));
    QVERIFY2(lines[2].contains(QLatin1String(",\"a \"\"quoted\"\", comma message\",")),
             qPrintable(lines[2]));
    QVERIFY(!page.exportCsv(dir.filePath(QStringLiteral("missing/dir/x.csv")), &error));
    QVERIFY(!error.isEmpty());
}

void tst_EventLogAlertsUi::bannerRaisesAndClearsUsageAlert()
{
    MonitorSession session;
    QWidget window;
    auto *layout = new QVBoxLayout(&window);
    auto *banner = new AlertBanner(&session, &window);
    layout->addWidget(banner);
    layout->addWidget(new QWidget(&window), 1);
    QStringList notifications;
    banner->setNotifier([&](const QString &title, const QString &) { notifications << title; });
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!banner->isVisible());

    Q_EMIT session.sampled(sampleWith(83)); // 83 of 97 usable = 86 % (83 % of max_connections)
    QVERIFY(banner->isVisible());
    QCOMPARE(notifications.size(), 1);
    QVERIFY2(notifications[0].contains(QLatin1String("86%")), qPrintable(notifications[0]));
    QVERIFY2(banner->text().contains(QLatin1String("83 of 97")), qPrintable(banner->text()));
    QList<Event> alerts = alertEvents(session.events());
    QCOMPARE(alerts.size(), 1);
    QVERIFY(alerts[0].message.startsWith(QLatin1String("raised: ")));
    QCOMPARE(alerts[0].level, Event::Level::Warning);
    QVERIFY(alerts[0].remedy.contains(QLatin1String("-pooler")));

    // Still above: updated figures, no second notification or event.
    Q_EMIT session.sampled(sampleWith(90));
    QCOMPARE(notifications.size(), 1);
    QCOMPARE(alertEvents(session.events()).size(), 1);
    QVERIFY(banner->text().contains(QLatin1String("90 of 97")));

    Q_EMIT session.sampled(sampleWith(40));
    QVERIFY(!banner->isVisible());
    QCOMPARE(notifications.size(), 1);
    alerts = alertEvents(session.events());
    QCOMPARE(alerts.size(), 2);
    QVERIFY(alerts[1].message.startsWith(QLatin1String("cleared: ")));
    QCOMPARE(alerts[1].level, Event::Level::Info);

    // The events reach the event log page like any other.
    EventLogPage page(&session.events());
    QTRY_VERIFY(page.model()->rowCount() >= 2);
}

void tst_EventLogAlertsUi::bannerOnConnectionLossAndPoolWaiters()
{
    MonitorSession session;
    QWidget window;
    auto *layout = new QVBoxLayout(&window);
    auto *banner = new AlertBanner(&session, &window);
    layout->addWidget(banner);
    int notified = 0;
    banner->setNotifier([&](const QString &, const QString &) { ++notified; });
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    Q_EMIT session.sampled(sampleWith(95));
    QCOMPARE(notified, 1);
    Q_EMIT session.connectionLost(
        makeError(ErrorKind::ConnectionRefused, QStringLiteral("refused")));
    // The usage figures are stale now: only "unreachable" remains.
    QCOMPARE(banner->activeAlerts().size(), 1);
    QCOMPARE(banner->activeAlerts()[0].kind, Alert::Kind::ServerUnreachable);
    QVERIFY(banner->isVisible());
    QCOMPARE(notified, 2);
    Q_EMIT session.connectionRestored();
    // Back to the last figures until the next sample.
    QCOMPARE(banner->activeAlerts().size(), 1);
    QCOMPARE(banner->activeAlerts()[0].kind, Alert::Kind::ConnectionUsage);
    Q_EMIT session.sampled(sampleWith(10));
    QVERIFY(!banner->isVisible());

    PoolStats pool;
    pool.waiting = 3;
    pool.maxSize = 10;
    pool.size = 10;
    Q_EMIT session.poolStatsSampled(pool);
    QVERIFY(banner->isVisible());
    QCOMPARE(banner->activeAlerts()[0].kind, Alert::Kind::PoolWaiters);
    pool.waiting = 0;
    Q_EMIT session.poolStatsSampled(pool);
    QVERIFY(!banner->isVisible());
}

void tst_EventLogAlertsUi::thresholdsDialogAppliesAndPersists()
{
    MonitorSession session;
    QWidget window;
    auto *layout = new QVBoxLayout(&window);
    auto *banner = new AlertBanner(&session, &window);
    layout->addWidget(banner);
    banner->setNotifier([](const QString &, const QString &) {});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(banner->alertThresholds().usagePercent, 80.0);

    Q_EMIT session.sampled(sampleWith(83)); // 86 %
    QVERIFY(banner->isVisible());

    AlertSettingsDialog dialog(banner->alertThresholds(), &window);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto *usage = dialog.findChild<QDoubleSpinBox *>(QStringLiteral("usagePercent"));
    QVERIFY(usage);
    QCOMPARE(usage->value(), 80.0);
    usage->setFocus();
    QTest::keyClick(usage, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(usage, QStringLiteral("90"));
    QTest::keyClick(usage, Qt::Key_Return); // the default button: OK
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(dialog.thresholds().usagePercent, 90.0);
    QCOMPARE(dialog.thresholds().longQuerySeconds, AlertThresholds {}.longQuerySeconds);

    banner->setAlertThresholds(dialog.thresholds());
    QVERIFY(!banner->isVisible()); // 86 % is below 90 %: cleared at once
    QCOMPARE(alertEvents(session.events()).size(), 2);

    // Persisted: a new banner (the next start) reads them back.
    QCOMPARE(QSettings().value(QStringLiteral("alerts/usagePercent")).toDouble(), 90.0);
    AlertBanner again(nullptr);
    QCOMPARE(again.alertThresholds().usagePercent, 90.0);

    // Restore defaults puts every box back.
    AlertSettingsDialog second(banner->alertThresholds());
    auto *buttons = second.findChild<QDialogButtonBox *>();
    QVERIFY(buttons);
    QTest::mouseClick(buttons->button(QDialogButtonBox::RestoreDefaults), Qt::LeftButton);
    QCOMPARE(second.thresholds().usagePercent, 80.0);
}

QTEST_MAIN(tst_EventLogAlertsUi)
#include "tst_eventlog_alerts_ui.moc"
