// The sizing advisor: properties over a grid of inputs, the documented Neon values, the guide's
// numbers labelled as the guide's, Little's law, and refused inputs.
#include "core/sizing/sizingadvisor.h"

#include <QtTest>

using namespace poolscope;

namespace {

SizingResult advise(const SizingInput &in)
{
    auto r = adviseSizing(in);
    if (!r)
        qFatal("adviseSizing refused valid input: %s", qPrintable(r.error().message));
    return r.value();
}

} // namespace

class TestSizingAdvisor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recommendationNeverExceedsAvailable()
    {
        int checked = 0;
        for (int maxConnections : { 0, 1, 5, 10, 20, 100, 104, 419, 4000 }) {
            for (int reserved : { 0, 3, 7 }) {
                for (int others : { 0, 1, 5 }) {
                    for (int instances : { 1, 2, 3, 7, 10, 50, 200, 5000 }) {
                        for (int withLoad = 0; withLoad < 2; ++withLoad) {
                            SizingInput in;
                            in.maxConnections = maxConnections;
                            in.reserved = reserved;
                            in.otherClients = others;
                            in.instances = instances;
                            if (withLoad) {
                                in.ratePerSecond = 500;
                                in.holdMs = 40;
                            }
                            const SizingResult r = advise(in);
                            QCOMPARE(r.available, std::max(0, maxConnections - reserved - others));
                            QCOMPARE(r.fits, r.recommendedMax.has_value());
                            if (r.recommendedMax) {
                                QVERIFY(qint64(instances) * *r.recommendedMax <= r.available);
                                QVERIFY(*r.recommendedMax >= 2);
                                QVERIFY(*r.recommendedMin <= *r.recommendedMax);
                                QVERIFY(r.maxSafeInstances >= instances);
                                QCOMPARE(r.envLines.size(), 2);
                            } else {
                                // Even 2 per instance does not fit: say so, point at the pooler.
                                QVERIFY(qint64(instances) * 2 > r.available);
                                QVERIFY(r.envLines.isEmpty());
                                QVERIFY(r.explanation.contains(QLatin1String("pooled endpoint")));
                            }
                            // Pooled: against the pooler's client limit instead.
                            in.pooled = true;
                            const SizingResult p = advise(in);
                            if (p.recommendedMax)
                                QVERIFY(qint64(instances) * *p.recommendedMax
                                        <= p.pooledClientLimit);
                            ++checked;
                        }
                    }
                }
            }
        }
        QVERIFY(checked > 1000);
    }

    void givenPoolMaxIsJudgedAgainstAvailable()
    {
        SizingInput in;
        in.maxConnections = 104;
        in.reserved = 7;
        in.poolMax = 10;
        for (int instances = 1; instances <= 20; ++instances) {
            in.instances = instances;
            const SizingResult r = advise(in);
            QCOMPARE(r.available, 97);
            QCOMPARE(r.fits, instances * 10 <= 97);
            QCOMPARE(r.maxSafeInstances, 9);
        }
    }

    void demandGrowsWithInstances()
    {
        // For a given pool max the worst case grows with every instance; the recommended max
        // shrinks as instances grow, so its worst case only has to stay within what is available.
        for (const int poolMax : { 2, 5, 10 }) {
            int previous = -1;
            for (int instances = 1; instances <= 300; ++instances) {
                SizingInput in;
                in.maxConnections = 419;
                in.reserved = 7;
                in.otherClients = 2;
                in.instances = instances;
                in.poolMax = poolMax;
                const SizingResult r = advise(in);
                QVERIFY(r.worstCase > previous);
                QCOMPARE(r.worstCase, instances * poolMax + 2);
                QCOMPARE(r.fits, r.worstCase <= 419 - 7);
                previous = r.worstCase;
                in.poolMax.reset();
                const SizingResult rec = advise(in);
                if (rec.fits)
                    QVERIFY(rec.worstCase <= rec.available + in.otherClients);
            }
        }
    }

    void neverRecommendsOne()
    {
        for (int available = 0; available <= 40; ++available) {
            for (int instances = 1; instances <= 25; ++instances) {
                SizingInput in;
                in.maxConnections = available;
                in.reserved = 0;
                in.instances = instances;
                in.ratePerSecond = 1;
                in.holdMs = 1; // Little's law says far below one connection
                const SizingResult r = advise(in);
                if (r.recommendedMax)
                    QVERIFY(*r.recommendedMax >= 2);
            }
        }
    }

    void minZeroWithScaleToZero()
    {
        SizingInput in;
        in.maxConnections = 104;
        in.reserved = 7;
        in.instances = 3;
        in.scaleToZero = true;
        in.poolMin = 2;
        const SizingResult r = advise(in);
        QCOMPARE(r.recommendedMin, std::optional<int>(0));
        QVERIFY(r.envLines.contains(QStringLiteral("DATABASE_POOL_MIN_SIZE=0")));
        QVERIFY(r.explanation.contains(QLatin1String("scale to zero")));
        in.scaleToZero = false;
        const SizingResult awake = advise(in);
        QVERIFY(*awake.recommendedMin >= 1 && *awake.recommendedMin <= 2);
    }

    void neonTableMatchesDocumentation_data()
    {
        QTest::addColumn<double>("cu");
        QTest::addColumn<int>("maxConnections");
        QTest::newRow("0.25") << 0.25 << 104;
        QTest::newRow("0.5") << 0.5 << 209;
        QTest::newRow("1") << 1.0 << 419;
        QTest::newRow("2") << 2.0 << 839;
        QTest::newRow("3") << 3.0 << 1258;
        QTest::newRow("4") << 4.0 << 1678;
        QTest::newRow("5") << 5.0 << 2098;
        QTest::newRow("6") << 6.0 << 2517;
        QTest::newRow("7") << 7.0 << 2937;
        QTest::newRow("8") << 8.0 << 3357;
        QTest::newRow("9") << 9.0 << 4000;
        QTest::newRow("16") << 16.0 << 4000;
        QTest::newRow("56") << 56.0 << 4000;
    }

    void neonTableMatchesDocumentation()
    {
        QFETCH(double, cu);
        QFETCH(int, maxConnections);
        QCOMPARE(neonMaxConnections(cu), maxConnections);
        // The resource's table agrees with the formula and the documentation.
        if (cu <= 9) {
            bool found = false;
            for (const LimitPreset &p : limitPresets()) {
                if (!p.fromGuide && qFuzzyCompare(p.computeUnits, cu)) {
                    QCOMPARE(p.maxConnections, maxConnections);
                    QCOMPARE(p.reserved, 7);
                    QVERIFY(p.source.startsWith(QLatin1String("https://neon.com/docs/")));
                    found = true;
                }
            }
            QVERIFY(found);
        }
    }

    void neonAutoscalingAndReserved()
    {
        QCOMPARE(neonReservedConnections(), 7);
        // compute_size = min(max_CU, 8 * min_CU)
        QCOMPARE(neonMaxConnections(0.25, 4.0), 839);  // min(4, 2) = 2 CU
        QCOMPARE(neonMaxConnections(1.0, 16.0), 3357); // min(16, 8) = 8 CU
        QCOMPARE(neonMaxConnections(2.0, 16.0), 4000); // 16 CU
        QCOMPARE(neonMaxConnections(0.5, 1.0), 419);
        QCOMPARE(neonMaxConnections(0.0), 0);
        QCOMPARE(neonMaxConnections(2.0, 1.0), 0); // max below min
        const auto preset = findPreset(QStringLiteral("neon-0.25cu"));
        QVERIFY(preset);
        SizingInput in;
        in.maxConnections = preset->maxConnections;
        in.reserved = preset->reserved;
        QCOMPARE(advise(in).available, 97); // "97 usable at 0.25 CU"
    }

    void neonPoolerFacts()
    {
        const PoolerFacts f = poolscope::neonPoolerFacts();
        QCOMPARE(f.poolMode, QStringLiteral("transaction"));
        QCOMPARE(f.maxClientConnections, 10000);
        QCOMPARE(f.defaultPoolSizeFraction, 0.9);
        QCOMPARE(f.queryWaitTimeoutSeconds, 120);
        QVERIFY(f.source.startsWith(QLatin1String("https://neon.com/docs/")));
        SizingInput in;
        in.maxConnections = 419;
        in.reserved = 7;
        in.pooled = true;
        in.instances = 500;
        const SizingResult r = advise(in);
        QCOMPARE(r.pooledServerPool, 377);
        QCOMPARE(r.pooledClientLimit, 10000);
        QVERIFY(r.fits);
        QVERIFY(r.explanation.contains(QLatin1String("377")));
    }

    void guidePresetsAreLabelledAsTheGuides()
    {
        struct Expected
        {
            const char *name;
            int maxConnections;
            int recommended;
        };
        for (const Expected &e :
             { Expected { "guide-free", 10, 5 }, Expected { "guide-launch", 100, 10 },
               Expected { "guide-scale", 1000, 20 } }) {
            const auto p = findPreset(QString::fromLatin1(e.name));
            QVERIFY2(p, e.name);
            QVERIFY(p->fromGuide);
            QCOMPARE(p->maxConnections, e.maxConnections);
            QCOMPARE(p->guideRecommendedMax, e.recommended);
            QVERIFY(p->label.contains(QLatin1String("the guide's")));
            QVERIFY(p->note.contains(QLatin1String("not connection limits")));
        }
        QVERIFY(!findPreset(QStringLiteral("neon-1cu"))->fromGuide);
        QVERIFY(!findPreset(QStringLiteral("no-such-plan")));
    }

    void guideSummaryIsReproducible()
    {
        const QList<GuideProfile> profiles = guideProfiles();
        QCOMPARE(profiles.size(), 2);
        QCOMPARE(profiles.at(0).name, QStringLiteral("local"));
        QCOMPARE(profiles.at(0).minSize, 5);
        QCOMPARE(profiles.at(0).maxSize, 20);
        QCOMPARE(profiles.at(1).name, QStringLiteral("serverless"));
        QCOMPARE(profiles.at(1).minSize, 2);
        QCOMPARE(profiles.at(1).maxSize, 10);
        for (const GuideProfile &g : profiles) {
            QCOMPARE(g.statementTimeoutSeconds, 30);
            QCOMPARE(g.endpoint, QStringLiteral("pooler"));
        }
    }

    void littlesLaw()
    {
        SizingInput in;
        in.maxConnections = 419;
        in.reserved = 7;
        in.ratePerSecond = 200;
        in.holdMs = 15;
        const SizingResult r = advise(in);
        QVERIFY(r.littlesLaw);
        QCOMPARE(*r.littlesLaw, 4.5); // 3 busy x 1.5 headroom
        QCOMPARE(r.recommendedMax, std::optional<int>(5));
        QVERIFY(r.explanation.contains(QLatin1String("3.0 busy")));
        in.instances = 4; // 4.5 spread over 4 instances: still never 1
        QCOMPARE(advise(in).recommendedMax, std::optional<int>(2));
        in.instances = 1;
        in.ratePerSecond = 20000; // wants 450, capped by what is available
        const SizingResult capped = advise(in);
        QCOMPARE(capped.recommendedMax, std::optional<int>(412));
        QVERIFY(capped.explanation.contains(QLatin1String("only 412 fit")));
    }

    void nothingFitsRecommendsThePooler()
    {
        SizingInput in;
        in.maxConnections = 104;
        in.reserved = 7;
        in.instances = 60; // 120 > 97
        const SizingResult r = advise(in);
        QVERIFY(!r.fits);
        QVERIFY(!r.recommendedMax);
        QVERIFY(!r.recommendedMin);
        QVERIFY(r.pooledRecommendedMax);
        QVERIFY(r.explanation.contains(QLatin1String("pooled endpoint")));
        QVERIFY(r.explanation.contains(QLatin1String("10000")));
        QCOMPARE(r.worstCase, 120);
    }

    void invalidInputsAreRefused_data()
    {
        QTest::addColumn<int>("field");
        QTest::addColumn<QString>("named");
        QTest::newRow("max_connections") << 0 << QStringLiteral("max_connections");
        QTest::newRow("reserved") << 1 << QStringLiteral("reserved");
        QTest::newRow("other clients") << 2 << QStringLiteral("other clients");
        QTest::newRow("instances") << 3 << QStringLiteral("instances");
        QTest::newRow("pool min > max") << 4 << QStringLiteral("pool min");
        QTest::newRow("negative pool max") << 5 << QStringLiteral("pool max");
        QTest::newRow("negative rate") << 6 << QStringLiteral("rate");
        QTest::newRow("rate without hold") << 7 << QStringLiteral("hold time");
        QTest::newRow("negative pool min") << 8 << QStringLiteral("pool min");
    }

    void invalidInputsAreRefused()
    {
        QFETCH(int, field);
        QFETCH(QString, named);
        SizingInput in;
        switch (field) {
        case 0:
            in.maxConnections = -1;
            break;
        case 1:
            in.reserved = -3;
            break;
        case 2:
            in.otherClients = -1;
            break;
        case 3:
            in.instances = 0;
            break;
        case 4:
            in.poolMin = 5;
            in.poolMax = 3;
            break;
        case 5:
            in.poolMax = -2;
            break;
        case 6:
            in.ratePerSecond = -1;
            in.holdMs = 10;
            break;
        case 7:
            in.ratePerSecond = 10;
            break;
        case 8:
            in.poolMin = -1;
            break;
        }
        const auto r = adviseSizing(in);
        QVERIFY(!r);
        QCOMPARE(r.error().kind, ErrorKind::InvalidConfiguration);
        QVERIFY2(r.error().message.contains(named), qPrintable(r.error().message));
    }
};

QTEST_APPLESS_MAIN(TestSizingAdvisor)
#include "tst_sizingadvisor.moc"
