// Every test executable runs with a HOME and XDG base directories of its own, created fresh for
// each run and removed at exit, so that what one run saves through QSettings (window layout, alert
// thresholds, connection profiles) never reaches the next run or the developer's own
// configuration. Child processes (poolscope started by a test) inherit the same directories.
// poolscope_add_test compiles this file into every test; it runs before main(), before Qt
// resolves any settings path. Under ctest the directories live below POOLSCOPE_TEST_HOME_ROOT
// (one folder per test in the build tree), else below the temporary directory.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

class IsolatedHome
{
public:
    IsolatedHome()
    {
        namespace fs = std::filesystem;
        std::error_code error;
        const char *root = std::getenv("POOLSCOPE_TEST_HOME_ROOT");
        const fs::path base = root && *root ? fs::path(root) : fs::temp_directory_path(error);
        fs::create_directories(base, error);
        std::string pattern = (base / "home.XXXXXX").string();
        if (!::mkdtemp(pattern.data())) {
            std::perror(("isolated test home: mkdtemp " + pattern).c_str());
            std::abort(); // never fall back to the developer's own home
        }
        m_home = pattern;
        set("HOME", m_home);
        set("XDG_CONFIG_HOME", m_home / ".config");
        set("XDG_DATA_HOME", m_home / ".local/share");
        set("XDG_STATE_HOME", m_home / ".local/state");
        set("XDG_CACHE_HOME", m_home / ".cache");
    }

    ~IsolatedHome()
    {
        std::error_code error;
        std::filesystem::remove_all(m_home, error);
    }

    IsolatedHome(const IsolatedHome &) = delete;
    IsolatedHome &operator=(const IsolatedHome &) = delete;

private:
    static void set(const char *name, const std::filesystem::path &path)
    {
        std::error_code error;
        std::filesystem::create_directories(path, error);
        ::setenv(name, path.c_str(), 1);
    }

    std::filesystem::path m_home;
};

const IsolatedHome isolatedHome;

} // namespace
