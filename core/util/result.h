#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace poolscope {

// A value or an error, for APIs that must not throw across thread or signal boundaries
// (in the spirit of std::expected, which libstdc++ 12 only offers in C++23 mode).
template<typename T, typename E>
class [[nodiscard]] Result
{
public:
    Result(T value)
        : m_data(std::in_place_index<0>, std::move(value))
    {
    }
    Result(E error)
        : m_data(std::in_place_index<1>, std::move(error))
    {
    }

    bool ok() const { return m_data.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() &
    {
        assert(ok());
        return std::get<0>(m_data);
    }
    const T &value() const &
    {
        assert(ok());
        return std::get<0>(m_data);
    }
    T &&value() &&
    {
        assert(ok());
        return std::get<0>(std::move(m_data));
    }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const E &error() const &
    {
        assert(!ok());
        return std::get<1>(m_data);
    }
    E &&error() &&
    {
        assert(!ok());
        return std::get<1>(std::move(m_data));
    }

private:
    std::variant<T, E> m_data;
};

} // namespace poolscope
