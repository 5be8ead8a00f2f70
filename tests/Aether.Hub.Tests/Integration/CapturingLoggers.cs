using Microsoft.Extensions.Logging;

namespace Aether.Hub.Tests.Integration;

/// <summary>Every log line of every level, in order: what the hub and its loops said, for tests that check what
/// was (or was not) said after a moment.</summary>
internal sealed class CapturingLoggers : ILoggerFactory
{
    private readonly List<(LogLevel Level, string Category, string Message)> _lines = [];

    public int Count
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Since(int index)
    {
        lock (_lines)
        {
            return [.. _lines.Skip(index)];
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggers owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines)
            {
                owner._lines.Add((logLevel, category, formatter(state, exception)));
            }
        }
    }
}
