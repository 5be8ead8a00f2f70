using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aether.Labs.Store;

/// <summary>Which database errors are worth a retry, and the text of one.</summary>
internal static class StoreErrors
{
    /// <summary>Another writer got there first: a unique key taken meanwhile, a serialization failure or deadlock
    /// (PostgreSQL), a busy or locked file (SQLite). The transaction was rolled back; doing it again reads the winner's
    /// rows.</summary>
    public static bool IsConflict(Exception exception) =>
        Find<PostgresException>(exception) is { SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected }
        || Find<SqliteException>(exception) is { SqliteErrorCode: 5 or 6 } // SQLITE_BUSY, SQLITE_LOCKED
        || Find<SqliteException>(exception) is { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 }; // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY

    /// <summary>The error came from the database or the way to it.</summary>
    public static bool IsDatabase(Exception exception) =>
        exception is DbUpdateException || Find<DbException>(exception) is not null || Find<SocketException>(exception) is not null;

    /// <summary>The error as a <see cref="LabStoreException"/> saying where and why.</summary>
    public static LabStoreException Wrap(string location, string operation, Exception exception)
    {
        if (Find<PostgresException>(exception) is { } postgres)
        {
            var detail = string.IsNullOrEmpty(postgres.Detail) ? postgres.MessageText : postgres.MessageText + " (" + postgres.Detail + ")";
            return new LabStoreException(location, operation, $"{detail} [SQLSTATE {postgres.SqlState}]", postgres.SqlState, exception);
        }

        if (Find<SqliteException>(exception) is { } sqlite)
        {
            return new LabStoreException(location, operation, sqlite.Message, sqlite.SqliteExtendedErrorCode.ToString(CultureInfo.InvariantCulture), exception);
        }

        // A connection error: Npgsql's "Failed to connect to 127.0.0.1:5999" with the socket's "Connection refused".
        List<string> parts = [];
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbUpdateException || parts.Contains(e.Message, StringComparer.Ordinal))
            {
                continue; // EF's "see the inner exception" adds nothing
            }

            parts.Add(e.Message);
        }

        return new LabStoreException(location, operation, string.Join(": ", parts), null, exception);
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
